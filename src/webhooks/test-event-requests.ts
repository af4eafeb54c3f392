import type { HubDb } from "../db/client.ts";
import { latestTestAttempt } from "./delivery.store.ts";

/**
 * Test events partners asked for. sendTestEvent logs a PENDING attempt (sequence NULL, the test
 * event's id and time) before it queues the delivery; a job for a test event is only worth sending
 * while that log says the request is still open: its latest attempt PENDING, or FAILED and due a retry.
 */
export class TestEventRequests {
  constructor(private readonly db: HubDb) {}

  /** Whether this subscription requested this test event, at this time, and it is not yet settled. */
  isOpen(subscriptionId: string, testEventId: string, testTime: string): boolean {
    const row = latestTestAttempt(this.db, subscriptionId, testEventId);
    return !!row && row.sequence === null && row.eventTime === testTime && (row.status === "PENDING" || row.status === "FAILED");
  }
}
