import type { HubDb } from "../db/client.ts";
import type { SubscriptionStatus } from "../db/column-types.ts";
import type { DeliveryLedger } from "../webhooks/delivery-ledger.store.ts";
import { breakerState, type BreakerState } from "../webhooks/endpoint-breaker.ts";
import { DeliveryHealthStore } from "./delivery-health.store.ts";

export interface DeliveryHealthView {
  subscriptionId: string;
  partnerName: string;
  status: SubscriptionStatus;
  delivered: number;
  failed: number;
  successRatio: number;
  p50LatencyMs: number | null;
  p99LatencyMs: number | null;
  owed: number;
  breaker: BreakerState;
  parkedUntil: string | null;
}

/**
 * Per subscription, counted in events (not attempts): delivered, not (yet) delivered, and the
 * latency from event time to the 2xx; what the delivery ledger still owes it, and the state of its
 * endpoint's circuit breaker (webhooks/endpoint-breaker.ts), so an operator sees a parked endpoint
 * and its backlog side by side.
 */
export class DeliveryHealth {
  readonly #store: DeliveryHealthStore;

  constructor(
    db: HubDb,
    private readonly ledger: DeliveryLedger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#store = new DeliveryHealthStore(db);
  }

  private percentile(id: string, delivered: number, p: number): number | null {
    if (delivered === 0) return null;
    const ms = this.#store.latencyAt(id, Math.min(delivered - 1, Math.floor(p * delivered)));
    return ms !== undefined ? Math.round(Math.max(0, ms) * 10) / 10 : null;
  }

  rows(): DeliveryHealthView[] {
    const owed = this.ledger.owedBySubscription();
    const now = this.now().getTime();
    return this.#store.totals().map(({ failures, parkedUntilMs, ...row }) => {
      const breaker = breakerState({ failures, parkedUntil: parkedUntilMs }, now);
      return {
        ...row,
        successRatio: row.delivered + row.failed === 0 ? 0 : Math.round((row.delivered / (row.delivered + row.failed)) * 10_000) / 10_000,
        p50LatencyMs: this.percentile(row.subscriptionId, row.delivered, 0.5),
        p99LatencyMs: this.percentile(row.subscriptionId, row.delivered, 0.99),
        owed: owed.get(row.subscriptionId) ?? 0,
        breaker,
        parkedUntil: breaker === "CLOSED" || parkedUntilMs === null ? null : new Date(parkedUntilMs).toISOString(),
      };
    });
  }
}
