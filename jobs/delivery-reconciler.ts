import type { DatabaseIdentity } from "../src/events/database-identity.ts";
import type { DeliveryLedger, OwedRow } from "../src/webhooks/delivery-ledger.store.ts";
import type { HubQueues } from "./queues.ts";

const PASS = 500;

export interface ReconcileSettings {
  /** How often it looks; `DELIVERY_RECONCILE_MS`, default 10 s. */
  intervalMs: number;
  /** A queued row whose job should have run this long ago is checked; `DELIVERY_GRACE_MS`, default 30 s. */
  graceMs: number;
}

/**
 * Finds what Redis lost. A ledger row marked queued, overdue by more than the grace, and held by
 * no worker is checked against Redis: if the job carrying it is no longer there to run (lost with
 * Redis's data, evicted, failed as stalled, finished by a worker that died before recording, or
 * dropped as a duplicate of an earlier database's job), the row gets a new hand-off and the relay
 * queues it again. A job still waiting (a backlog) is left alone, so nothing is sent twice by
 * this. Rows are walked in passes of 500 from a moving position, so a long backlog costs each
 * pass the same.
 */
export class DeliveryReconciler {
  #after: { dueAt: number; subscriptionId: string; sequence: number } | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;
  #lastError = 0;

  constructor(
    private readonly ledger: DeliveryLedger,
    private readonly identity: DatabaseIdentity,
    private readonly queues: HubQueues,
    private readonly settings: ReconcileSettings,
    private readonly handOff: () => void,
    private readonly log: (entry: Record<string, unknown>) => void,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      this.pass().catch((error: unknown) => {
        // Redis or the database unavailable: the next pass tries again. Logged at most every 10 s.
        if (Date.now() - this.#lastError < 10_000) return;
        this.#lastError = Date.now();
        this.log({ level: "warn", msg: "delivery reconciler pass failed; it runs again shortly", error: String(error) });
      });
    }, this.settings.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  /** One pass; returns how many rows were handed over again. Concurrent calls share one. */
  pass(): Promise<number> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #pass(): Promise<number> {
    const now = this.now();
    const rows = this.ledger.overdue({ cutoff: now - this.settings.graceMs, now, after: this.#after, limit: PASS });
    this.#after = rows.length === PASS ? rows[rows.length - 1] : null;
    if (rows.length === 0) return 0;
    const databaseId = this.identity.id;
    // One look per job: an event's fan-out job carries all its hand-off-0 rows.
    const live = new Map<string, Promise<boolean>>();
    const carried = (row: OwedRow) => {
      const key = row.handoff === 0 ? `fan.${row.sequence}` : `${row.subscriptionId}.${row.sequence}.${row.handoff}`;
      let look = live.get(key);
      if (!look) live.set(key, (look = this.queues.carries(databaseId, row.lane, row)));
      return look;
    };
    const verdicts = await Promise.all(rows.map((row) => carried(row)));
    let rehanded = 0;
    for (const [i, row] of rows.entries()) if (!verdicts[i] && this.ledger.rehand(row, this.now())) rehanded++;
    if (rehanded > 0) {
      this.log({ level: "warn", msg: "deliveries whose job Redis no longer holds were handed over again", count: rehanded });
      this.handOff();
    }
    return rehanded;
  }
}
