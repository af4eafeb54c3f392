import type { HubQueues } from "../../jobs/queues.ts";
import type { HubDb } from "../db/client.ts";
import { markDispatched, undispatchedEvents } from "./event-log.ts";

const BATCH = 500;

/**
 * Hands committed events to BullMQ and only then marks them dispatched. When Redis is down the
 * events stay undispatched and a later drain (a kick after the next commit, or the worker's poll)
 * hands them over; job ids derive from the sequence, so handing one over twice adds nothing.
 */
export class OutboxRelay {
  #running: Promise<number> | null = null;
  #again = false;
  #lastError = 0;

  constructor(
    private readonly db: HubDb,
    private readonly queues: HubQueues,
    private readonly log: (entry: Record<string, unknown>) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Starts a drain soon, after the caller's transaction has surely committed; never throws. */
  kick(): void {
    setImmediate(() => {
      this.drain().catch(() => undefined);
    });
  }

  /** Drains every undispatched event; concurrent calls share one run. Returns how many were handed over. */
  async drain(): Promise<number> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#drainAll().finally(() => {
      this.#running = null;
    });
    const handed = await this.#running;
    if (this.#again) {
      this.#again = false;
      return handed + (await this.drain());
    }
    return handed;
  }

  async #drainAll(): Promise<number> {
    let handed = 0;
    try {
      for (;;) {
        const batch = undispatchedEvents(this.db, BATCH);
        if (batch.length === 0) return handed;
        await this.queues.addFanouts(batch);
        markDispatched(this.db, batch.map((event) => event.sequence), this.now().toISOString());
        handed += batch.length;
      }
    } catch (error) {
      // Redis is unreachable: the events stay in the outbox. Log at most every 10 s.
      if (Date.now() - this.#lastError > 10_000) {
        this.#lastError = Date.now();
        this.log({ level: "warn", msg: "outbox hand-off failed; events stay queued in the database", error: String(error) });
      }
      throw error;
    }
  }
}
