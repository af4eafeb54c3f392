import type { LedgerRef } from "../../jobs/queues.ts";
import { laneOf } from "../events/lanes.ts";
import type { DeliveryPlanner, OutboxEvent, PlannedDelivery } from "../events/outbox-relay.ts";
import type { DeliveryLedger } from "./delivery-ledger.store.ts";
import { BREAKER_FAILURES } from "./endpoint-breaker.ts";
import type { FanoutQueries } from "./fanout.store.ts";

/**
 * The outbox relay's webhook steps (events/outbox-relay.ts): an event is owed to every
 * subscription that receives it, in the event's lane; rows parked behind an endpoint's breaker
 * are let go once it may be tried again; hand-offs are the ledger's.
 */
export class LedgerDeliveryPlanner implements DeliveryPlanner {
  constructor(
    private readonly ledger: DeliveryLedger,
    private readonly fanout: FanoutQueries,
  ) {}

  plan(event: OutboxEvent, now: Date): void {
    this.ledger.owe(event.sequence, laneOf(event.type), this.fanout.subscriptionsFor(event), now);
  }

  release(now: number): void {
    this.ledger.releaseWaiting(now, BREAKER_FAILURES);
  }

  unqueued(args: { horizon: number; limit: number }): PlannedDelivery[] {
    return this.ledger.unqueued(args);
  }

  markQueued(row: LedgerRef): void {
    this.ledger.markQueued(row);
  }
}
