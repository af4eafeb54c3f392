import type { Statement } from "better-sqlite3";
import { preparedOnce, type HubDb } from "../db/client.ts";
import { subscriptionReceivesSql } from "../events/event-visibility.ts";
import type { DeliveryStatus } from "../db/column-types.ts";
import type { SubscriptionRow } from "./subscription.store.ts";

/** A subscription with what its creating key allows, as one delivery attempt needs it. */
export type DeliverySubscription = SubscriptionRow & { keyScopes: string | null; keyRevokedAt: string | null };

/** How a test event's latest attempt stands (test-event-requests.ts judges it). */
export interface TestAttemptRow {
  status: DeliveryStatus;
  sequence: number | null;
  eventTime: string;
}

/** The delivery path's reads and writes, prepared once: every delivery runs each of them. */
export class DeliveryStore {
  readonly #subscription: Statement;
  readonly #receives: Statement;
  readonly #lastAttempt: Statement;
  readonly #insertAttempt: Statement;
  readonly #finishAttempt: Statement;
  readonly #success: Statement;

  constructor(db: HubDb) {
    const sql = db.$client;
    this.#subscription = sql.prepare(`
      SELECT s.id, s.partner_id AS partnerId, s.key_id AS keyId, s.url, s.event_types AS eventTypes, s.status,
             s.disabled_reason AS disabledReason, s.secret_sealed AS secretSealed,
             s.previous_secret_sealed AS previousSecretSealed, s.previous_secret_until AS previousSecretUntil,
             s.last_success_at AS lastSuccessAt, s.failures_since_success AS failuresSinceSuccess, s.parked_until AS parkedUntil, s.created_at AS createdAt,
             k.scopes AS keyScopes, k.revoked_at AS keyRevokedAt
      FROM webhook_subscriptions s LEFT JOIN api_keys k ON k.id = s.key_id WHERE s.id = ?`);
    this.#receives = sql.prepare(`
      SELECT 1 FROM webhook_subscriptions s LEFT JOIN api_keys k ON k.id = s.key_id, events e
      WHERE s.id = @subscription AND e.sequence = @sequence
        AND ${subscriptionReceivesSql({ type: "e.type", cardNumber: "e.card_number", holderId: "e.holder_id" })}`);
    this.#lastAttempt = sql.prepare(
      "SELECT id, attempt, status FROM webhook_deliveries WHERE subscription_id = ? AND event_id = ? ORDER BY attempt DESC LIMIT 1",
    );
    this.#insertAttempt = sql.prepare(`
      INSERT INTO webhook_deliveries (subscription_id, event_id, sequence, event_time, attempt, status, created_at)
      VALUES (@subscriptionId, @eventId, @sequence, @eventTime, @attempt, 'PENDING', @createdAt) RETURNING id`);
    this.#finishAttempt = sql.prepare(`
      UPDATE webhook_deliveries SET status = @status, response_status = @responseStatus, latency_ms = @latencyMs,
             error = @error, delivered_at = @deliveredAt WHERE id = @id`);
    // Writes only when something changes (a success also closes the endpoint's breaker): a steady
    // stream of successes costs no write per delivery.
    this.#success = sql.prepare(`
      UPDATE webhook_subscriptions SET last_success_at = @at, failures_since_success = 0, parked_until = NULL
      WHERE id = @id AND (failures_since_success > 0 OR parked_until IS NOT NULL OR last_success_at IS NULL OR last_success_at < @stale)`);
  }

  subscription(id: string): DeliverySubscription | undefined {
    return this.#subscription.get(id) as DeliverySubscription | undefined;
  }

  /** Whether the subscription (as its creating key now stands) receives the event: checked at every attempt. */
  receives(subscriptionId: string, sequence: number): boolean {
    return this.#receives.get({ subscription: subscriptionId, sequence }) !== undefined;
  }

  lastAttempt(subscriptionId: string, eventId: string): { id: number; attempt: number; status: DeliveryStatus } | undefined {
    return this.#lastAttempt.get(subscriptionId, eventId) as { id: number; attempt: number; status: DeliveryStatus } | undefined;
  }

  insertAttempt(row: { subscriptionId: string; eventId: string; sequence: number | null; eventTime: string; attempt: number; createdAt: string }): number {
    return (this.#insertAttempt.get(row) as { id: number }).id;
  }

  finishAttempt(row: { id: number; status: Exclude<DeliveryStatus, "PENDING">; responseStatus: number | null; latencyMs: number | null; error: string | null; deliveredAt: string | null }): void {
    this.#finishAttempt.run(row);
  }

  recordSuccess(id: string, now: Date): void {
    this.#success.run({ id, at: now.toISOString(), stale: new Date(now.getTime() - 60_000).toISOString() });
  }
}

/** The latest attempt logged for a test event (prepared on first use: only test events read it). */
export function latestTestAttempt(db: HubDb, subscriptionId: string, testEventId: string): TestAttemptRow | undefined {
  return preparedOnce<[string, string], TestAttemptRow>(
    db,
    "SELECT status, sequence, event_time AS eventTime FROM webhook_deliveries WHERE subscription_id = ? AND event_id = ? ORDER BY attempt DESC LIMIT 1",
  ).get(subscriptionId, testEventId);
}
