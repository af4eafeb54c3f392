import crypto from "node:crypto";
import type { HubQueues } from "../../jobs/queues.ts";
import { laneOf } from "../events/lanes.ts";
import type { HubDb } from "../db/client.ts";
import { webhookDeliveries } from "../db/schema.ts";
import { HubError } from "../errors.ts";
import type { Principal } from "../partners/roles.ts";
import type { FanoutQueries } from "./fanout.ts";
import type { DeliveryRow, SubscriptionService } from "./subscription-service.ts";

export const MAX_REPLAY = 100_000;
const PAGE = 1000;
/** One test event per subscription in this long, one replay per subscription in this long. */
export const TEST_EVENT_SPACING_MS = 10_000;
export const REPLAY_SPACING_MS = 60_000;

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
  constructor(
    private readonly db: HubDb,
    private readonly subscriptions: SubscriptionService,
    private readonly fanout: FanoutQueries,
    private readonly queues: () => HubQueues,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async sendTestEvent(principal: Principal, subscriptionId: string): Promise<DeliveryRow> {
    const subscription = this.subscriptions.own(principal, subscriptionId);
    if (subscription.status !== "ACTIVE") throw new HubError("CONFLICT", `subscription is ${subscription.status}; resume it first`);
    await this.claim(`test:${subscriptionId}`, TEST_EVENT_SPACING_MS, "a test event");
    const testEventId = `test_${crypto.randomBytes(9).toString("base64url")}`;
    const testTime = this.now().toISOString();
    const row = this.db
      .insert(webhookDeliveries)
      .values({ subscriptionId, eventId: testEventId, sequence: null, eventTime: testTime, attempt: 1, status: "PENDING", createdAt: testTime })
      .returning()
      .get();
    await enqueue(() =>
      this.queues().addDeliveries("bulk", [{ jobId: `dlv-${subscriptionId}-${testEventId}`, data: { subscriptionId, sequence: null, testEventId, testTime } }]),
    );
    return row;
  }

  /** Queues every event after `afterSequence` that the subscription would have received. */
  async replay(principal: Principal, subscriptionId: string, afterSequence: number): Promise<number> {
    const subscription = this.subscriptions.own(principal, subscriptionId);
    if (subscription.status !== "ACTIVE") throw new HubError("CONFLICT", `subscription is ${subscription.status}; resume it first`);
    if (!Number.isInteger(afterSequence) || afterSequence < 0) {
      throw new HubError("BAD_USER_INPUT", "afterSequence must be 0 or a sequence number", { field: "afterSequence" });
    }
    await this.claim(`replay:${subscriptionId}`, REPLAY_SPACING_MS, "a replay");
    const replayId = crypto.randomBytes(6).toString("base64url");
    let after = afterSequence;
    let queued = 0;
    while (queued < MAX_REPLAY) {
      const events = this.fanout.eventsForReplay({ subscriptionId, after, limit: PAGE });
      if (events.length === 0) break;
      for (const lane of ["urgent", "bulk"] as const) {
        const jobs = events
          .filter((event) => laneOf(event.type) === lane)
          .map((event) => ({ jobId: `dlv-${subscriptionId}-${event.sequence}-r${replayId}`, data: { subscriptionId, sequence: event.sequence } }));
        await enqueue(() => this.queues().addDeliveries(lane, jobs));
      }
      queued += events.length;
      after = events[events.length - 1].sequence;
    }
    return queued;
  }

  /** Takes the subscription's slot for `what` for `ms`, shared by every api process, or throws RATE_LIMITED. */
  private async claim(slot: string, ms: number, what: string): Promise<void> {
    const queues = this.queues();
    const key = `${queues.prefix}:dispatch:${slot}`;
    const taken = await enqueue(() => queues.connection.set(key, "1", "PX", ms, "NX"));
    if (taken === "OK") return;
    const left = Math.max(1, await queues.connection.pttl(key).catch(() => ms));
    throw new HubError("RATE_LIMITED", `${what} for this subscription was asked for moments ago; retry after ${Math.ceil(left / 1000)} s`, { retryAfterMs: left });
  }
}
