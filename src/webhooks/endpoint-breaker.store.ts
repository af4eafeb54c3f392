import type { Statement } from "better-sqlite3";
import type { HubDb } from "../db/client.ts";

/** The breaker's columns on `webhook_subscriptions` (endpoint-breaker.ts holds the rule), prepared once. */
export class EndpointBreakerStore {
  readonly #takeProbe: Statement;
  readonly #failures: Statement;
  readonly #park: Statement;

  /** `breakerFailures`: the failures in a row after which an endpoint is parked. */
  constructor(db: HubDb, breakerFailures: number) {
    const sql = db.$client;
    this.#takeProbe = sql.prepare(`
      UPDATE webhook_subscriptions SET parked_until = @hold
      WHERE id = @id AND failures_since_success >= ${breakerFailures} AND (parked_until IS NULL OR parked_until <= @now)`);
    this.#failures = sql.prepare("SELECT failures_since_success AS failures FROM webhook_subscriptions WHERE id = ?");
    this.#park = sql.prepare("UPDATE webhook_subscriptions SET parked_until = @until WHERE id = @id");
  }

  /** Holds a parked endpoint whose park is over until `hold`; false when another worker took it first. */
  takeProbe(subscriptionId: string, now: number, hold: number): boolean {
    return this.#takeProbe.run({ id: subscriptionId, now, hold }).changes === 1;
  }

  /** Failed attempts in a row, or undefined when the subscription is gone. */
  failures(subscriptionId: string): number | undefined {
    return (this.#failures.get(subscriptionId) as { failures: number } | undefined)?.failures;
  }

  park(subscriptionId: string, until: number): void {
    this.#park.run({ id: subscriptionId, until });
  }
}
