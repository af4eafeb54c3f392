import { visibleEventData, type EventType, type StoredEvent } from "../events/event-catalogue.ts";
import { eventId } from "../events/change-feed.ts";

/** CloudEvents `type` for each hub event type. */
export const CLOUD_EVENT_TYPES: Record<EventType, string> = {
  CARD_ISSUED: "card.issued",
  CARD_SUPERSEDED: "card.superseded",
  CARD_REPORTED_LOST: "card.reported_lost",
  CARD_REVOKED: "card.revoked",
  CARD_EXPIRED: "card.expired",
  HOLDER_STATUS_CHANGED: "holder.status_changed",
};

const TEST_EVENT_TYPE = "webhook.test";

interface CloudEvent {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  time: string;
  subject?: string;
  datacontenttype: "application/json";
  data: Record<string, unknown>;
}

/** The structured CloudEvents body for a hub event, serialized once so the exact bytes are signed. */
export function serializeEvent(event: StoredEvent, source: string, canReadLineage: boolean): string {
  const body: CloudEvent = {
    specversion: "1.0",
    id: eventId(event.sequence),
    source,
    type: CLOUD_EVENT_TYPES[event.type],
    time: event.occurredAt,
    subject: event.cardNumber,
    datacontenttype: "application/json",
    data: visibleEventData(event.data, canReadLineage),
  };
  return JSON.stringify(body);
}

export function serializeTestEvent(id: string, source: string, time: string, subscriptionId: string): string {
  const body: CloudEvent = {
    specversion: "1.0",
    id,
    source,
    type: TEST_EVENT_TYPE,
    time,
    datacontenttype: "application/json",
    data: { subscriptionId, message: "Test event from fpr-hub: your endpoint is reachable and verifies signatures." },
  };
  return JSON.stringify(body);
}
