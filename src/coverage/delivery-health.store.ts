import type { Statement } from "better-sqlite3";
import { lazyStatements, type HubDb } from "../db/client.ts";
import type { SubscriptionStatus } from "../db/column-types.ts";

/** Per subscription, counted in events (not attempts), beside its breaker's columns. */
export interface DeliveryTotalsRow {
  subscriptionId: string;
  partnerName: string;
  status: SubscriptionStatus;
  delivered: number;
  failed: number;
  failures: number;
  parkedUntilMs: number | null;
}

const SQL = {
  totals: `
    SELECT s.id AS subscriptionId, p.name AS partnerName, s.status AS status,
           s.failures_since_success AS failures, s.parked_until AS parkedUntilMs,
           count(DISTINCT CASE WHEN d.status = 'SUCCEEDED' THEN d.event_id END) AS delivered,
           count(DISTINCT d.event_id) - count(DISTINCT CASE WHEN d.status = 'SUCCEEDED' THEN d.event_id END) AS failed
    FROM webhook_subscriptions s
    JOIN partners p ON p.id = s.partner_id
    LEFT JOIN webhook_deliveries d ON d.subscription_id = s.id
    GROUP BY s.id ORDER BY p.name, s.id`,
  latencyAt: `
    SELECT (julianday(delivered_at) - julianday(event_time)) * 86400000.0 AS ms
    FROM webhook_deliveries WHERE subscription_id = @id AND status = 'SUCCEEDED'
    ORDER BY ms LIMIT 1 OFFSET @offset`,
} as const;

/** The delivery log's figures per subscription, for operators. */
export class DeliveryHealthStore {
  /** Prepared on first use (lazyStatements): a database an older hub left may not have the table yet. */
  readonly #sql: (name: keyof typeof SQL) => Statement;

  constructor(db: HubDb) {
    this.#sql = lazyStatements(db, SQL);
  }

  totals(): DeliveryTotalsRow[] {
    return this.#sql("totals").all() as DeliveryTotalsRow[];
  }

  /** The latency (ms, event time to 2xx) of the subscription's `offset`-th fastest delivery, or undefined. */
  latencyAt(subscriptionId: string, offset: number): number | undefined {
    return (this.#sql("latencyAt").get({ id: subscriptionId, offset }) as { ms: number } | undefined)?.ms;
  }
}
