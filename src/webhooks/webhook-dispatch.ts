import crypto from "node:crypto";
import type { HubQueues } from "../../jobs/queues.ts";
import { laneOf } from "../events/lanes.ts";
import { inTransaction, type HubDb } from "../db/client.ts";
import { HubError } from "../errors.ts";
import type { Principal } from "../partners/roles.ts";
import type { FanoutQueries } from "./fanout.store.ts";
import type { DeliveryLedger } from "./delivery-ledger.store.ts";
import type { SubscriptionService } from "./subscription-service.ts";
import { SubscriptionStore, type DeliveryRow } from "./subscription.store.ts";

const MAX_REPLAY = 100_000;
const PAGE = 1000;
/** One test event per subscription in this long, one replay per subscription in this long. */
const TEST_EVENT_SPACING_MS = 10_000;
const REPLAY_SPACING_MS = 60_000;
/** Per partner in those windows, over all its subscriptions (re-created ones included). */
const TEST_EVENTS_PER_PARTNER = 10;
const REPLAYS_PER_PARTNER = 3;

async function enqueue<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch {
    throw new HubError("INTERNAL_SERVER_ERROR", "the delivery queue is unavailable right now; try again shortly");
  }
}

/**
 * Deliveries a partner asks for: a test event, and a replay of what it missed. Both are spaced per
 * subscription (aliases and repeats cannot flood the queues every partner shares), and test events
 * take the bulk lane: the urgent one is for revocations and loss reports.
 */
export class WebhookDispatch {
  /** Where a test event's first attempt is logged (the partner reads it in the delivery log). */
  private readonly log: SubscriptionStore;

  constructor(
    private readonly db: HubDb,
    private readonly subscriptions: SubscriptionService,
    private readonly fanout: FanoutQueries,
    private readonly ledger: DeliveryLedger,
    private readonly queues: () => HubQueues,
    private readonly now: () => Date = () => new Date(),
    /** Told when deliveries were written to the ledger (a replay), so the relay hands them over. */
    private readonly onOwed: (() => void) | null = null,
  ) {
    this.log = new SubscriptionStore(db);
  }

  async sendTestEvent(principal: Principal, subscriptionId: string): Promise<DeliveryRow> {
    const subscription = this.subscriptions.own(principal, subscriptionId);
    if (subscription.status !== "ACTIVE") throw new HubError("CONFLICT", `subscription is ${subscription.status}; resume it first`);
    const slots = await this.claim("test", subscription.partnerId, subscriptionId, TEST_EVENT_SPACING_MS, TEST_EVENTS_PER_PARTNER, "test events");
    const testEventId = `test_${crypto.randomBytes(9).toString("base64url")}`;
    const testTime = this.now().toISOString();
    const row = this.log.logTestAttempt(subscriptionId, testEventId, testTime);
    await enqueue(() =>
      this.queues().addDeliveries("bulk", [{ jobId: `dlv-${subscriptionId}-${testEventId}`, data: { subscriptionId, sequence: null, testEventId, testTime } }]),
    ).catch(async (error: unknown) => {
      await this.release(slots);
      throw error;
    });
    return row;
  }

  /** Queues every event after `afterSequence` that the subscription would have received. */
  async replay(principal: Principal, subscriptionId: string, afterSequence: number): Promise<number> {
    const subscription = this.subscriptions.own(principal, subscriptionId);
    if (subscription.status !== "ACTIVE") throw new HubError("CONFLICT", `subscription is ${subscription.status}; resume it first`);
    if (!Number.isInteger(afterSequence) || afterSequence < 0) {
      throw new HubError("BAD_USER_INPUT", "afterSequence must be 0 or a sequence number", { field: "afterSequence" });
    }
    const slots = await this.claim("replay", subscription.partnerId, subscriptionId, REPLAY_SPACING_MS, REPLAYS_PER_PARTNER, "replays");
    const queued = await this.replayFrom(subscriptionId, afterSequence).catch(async (error: unknown) => {
      await this.release(slots);
      throw error;
    });
    // A replay that found nothing to send (a mistyped sequence) costs the partner no slot.
    if (queued === 0) await this.release(slots);
    return queued;
  }

  /** Writes the replayed deliveries to the ledger (owed again, from the first step of the schedule). */
  private async replayFrom(subscriptionId: string, afterSequence: number): Promise<number> {
    let after = afterSequence;
    let queued = 0;
    while (queued < MAX_REPLAY) {
      const events = this.fanout.eventsForReplay({ subscriptionId, after, limit: PAGE });
      if (events.length === 0) break;
      const now = this.now();
      inTransaction(this.db, () => this.ledger.replay(subscriptionId, events.map((event) => ({ sequence: event.sequence, lane: laneOf(event.type) })), now));
      queued += events.length;
      after = events[events.length - 1].sequence;
    }
    if (queued > 0) this.onOwed?.();
    return queued;
  }

  /**
   * Counts one `kind` request against the subscription (one per `ms`) and its partner (`perPartner`
   * per `ms`), shared by every api process through Redis, or throws RATE_LIMITED. Returns the
   * counters taken, to give back when nothing was queued.
   */
  private async claim(kind: string, partnerId: string, subscriptionId: string, ms: number, perPartner: number, what: string): Promise<string[]> {
    const queues = this.queues();
    const keys = [`${queues.prefix}:dispatch:${kind}:${subscriptionId}`, `${queues.prefix}:dispatch:${kind}:partner:${partnerId}`];
    const limits = [1, perPartner];
    const counts = await enqueue(async () => {
      const replies = await queues.connection.multi().incr(keys[0]).incr(keys[1]).exec();
      const taken = [Number(replies?.[0]?.[1]), Number(replies?.[1]?.[1])];
      // The window starts with its first request (no PEXPIRE NX: Redis 6 has none).
      await Promise.all(taken.map((count, i) => (count === 1 ? queues.connection.pexpire(keys[i], ms) : null)));
      return taken;
    });
    const over = counts.findIndex((count, i) => !(count <= limits[i]));
    if (over === -1) return keys;
    await this.release(keys);
    const left = Math.max(1, await queues.connection.pttl(keys[over]).catch(() => ms));
    const whose = over === 0 ? "this subscription" : "your subscriptions";
    throw new HubError("RATE_LIMITED", `too many ${what} for ${whose} just now; retry after ${Math.ceil(left / 1000)} s`, { retryAfterMs: left });
  }

  /** Gives back what claim took (best effort: at worst the window ends). */
  private async release(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => this.queues().connection.decr(key).catch(() => undefined)));
  }
}
