import type { Statement } from "better-sqlite3";
import type { HubDb } from "../db/client.ts";
import type { DeliveryLedger } from "../webhooks/delivery-ledger.ts";
import { breakerState, type BreakerState } from "../webhooks/endpoint-breaker.ts";

export interface DeliveryHealthView {
  subscriptionId: string;
  partnerName: string;
  status: string;
  delivered: number;
  failed: number;
  successRatio: number;
  p50LatencyMs: number | null;
  p99LatencyMs: number | null;
  owed: number;
  breaker: BreakerState;
  parkedUntil: string | null;
}

type TotalsRow = Pick<DeliveryHealthView, "subscriptionId" | "partnerName" | "status" | "delivered" | "failed"> & { failures: number; parkedUntilMs: number | null };

/**
 * Per subscription, counted in events (not attempts): delivered, not (yet) delivered, and the
 * latency from event time to the 2xx; what the delivery ledger still owes it, and the state of its
 * endpoint's circuit breaker (webhooks/endpoint-breaker.ts), so an operator sees a parked endpoint
 * and its backlog side by side.
 */
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

export class DeliveryHealth {
  /** Prepared on first use: services may be built over a database an older hub left, before its migrations. */
  readonly #statements = new Map<keyof typeof SQL, Statement>();

  constructor(
    private readonly db: HubDb,
    private readonly ledger: DeliveryLedger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  #sql(name: keyof typeof SQL): Statement {
    let statement = this.#statements.get(name);
    if (!statement) this.#statements.set(name, (statement = this.db.$client.prepare(SQL[name])));
    return statement;
  }

  private percentile(id: string, delivered: number, p: number): number | null {
    if (delivered === 0) return null;
    const row = this.#sql("latencyAt").get({ id, offset: Math.min(delivered - 1, Math.floor(p * delivered)) }) as { ms: number } | undefined;
    return row ? Math.round(Math.max(0, row.ms) * 10) / 10 : null;
  }

  rows(): DeliveryHealthView[] {
    const owed = this.ledger.owedBySubscription();
    const now = this.now().getTime();
    return (this.#sql("totals").all() as TotalsRow[]).map(({ failures, parkedUntilMs, ...row }) => {
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
