import type { Statement } from "better-sqlite3";
import type { HubDb } from "../db/client.ts";

/**
 * Test events partners asked for. sendTestEvent logs a PENDING attempt (sequence NULL, the test
 * event's id and time) before it queues the delivery; a job for a test event is only worth sending
 * while that log says the request is still open: its latest attempt PENDING, or FAILED and due a retry.
 */
export class TestEventRequests {
  readonly #latest: Statement;

  constructor(db: HubDb) {
    this.#latest = db.$client.prepare(
      "SELECT status, sequence, event_time AS eventTime FROM webhook_deliveries WHERE subscription_id = ? AND event_id = ? ORDER BY attempt DESC LIMIT 1",
    );
  }

  /** Whether this subscription requested this test event, at this time, and it is not yet settled. */
  isOpen(subscriptionId: string, testEventId: string, testTime: string): boolean {
    const row = this.#latest.get(subscriptionId, testEventId) as { status: string; sequence: number | null; eventTime: string } | undefined;
    return !!row && row.sequence === null && row.eventTime === testTime && (row.status === "PENDING" || row.status === "FAILED");
  }
}
