import type { HubDb } from "../db/client.ts";
import { HubError } from "../errors.ts";
import { EVENT_TYPES, visibleEventData, type EventType, type StoredEvent } from "./event-catalogue.ts";
import { toStoredEvent } from "./event-log.ts";
import { prepareFeedPage } from "./event-log.store.ts";

const MAX_PAGE_SIZE = 1000;

interface EventView {
  id: string;
  sequence: number;
  type: EventType;
  occurredAt: string;
  cardNumber: string;
  issueCount: number;
  data: Record<string, unknown>;
}

export interface ChangePage {
  edges: { cursor: string; node: EventView }[];
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

/** Which events a reader may see: all, or those of the cards its partner watches (event-visibility.ts). */
export interface FeedReader {
  seesAll: boolean;
  partnerId: string | null;
  canReadLineage: boolean;
}

export function eventId(sequence: number): string {
  return `evt_${sequence}`;
}

/** Cursors are opaque to callers; inside they are the event sequence. */
export function encodeCursor(sequence: number): string {
  return Buffer.from(`seq:${sequence}`).toString("base64url");
}

export function decodeCursor(cursor: string): number {
  const match = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match) throw new HubError("BAD_USER_INPUT", "after is not a cursor returned by changes", { field: "after" });
  return Number(match[1]);
}

function toEventView(event: StoredEvent, canReadLineage: boolean): EventView {
  return {
    id: eventId(event.sequence),
    sequence: event.sequence,
    type: event.type,
    occurredAt: event.occurredAt,
    cardNumber: event.cardNumber,
    issueCount: event.issueCount,
    data: visibleEventData(event.data, canReadLineage),
  };
}

/** The pull side of change delivery: a cursor over the event log in sequence order. */
export class ChangeFeed {
  readonly #page: ReturnType<typeof prepareFeedPage>;

  constructor(db: HubDb) {
    this.#page = prepareFeedPage(db);
  }

  page(reader: FeedReader, args: { after?: string | null; first?: number | null; types?: readonly string[] | null }): ChangePage {
    const first = args.first ?? 100;
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
      throw new HubError("BAD_USER_INPUT", `first must be from 1 to ${MAX_PAGE_SIZE}`, { field: "first" });
    }
    if (args.types?.some((type) => !EVENT_TYPES.includes(type as EventType))) {
      throw new HubError("BAD_USER_INPUT", "unknown event type", { field: "types" });
    }
    if (!reader.seesAll && !reader.partnerId) throw new HubError("FORBIDDEN", "this key sees no change feed");
    const rows = this.#page({
      after: args.after ? decodeCursor(args.after) : 0,
      types: args.types && args.types.length > 0 ? JSON.stringify(args.types) : null,
      all: reader.seesAll ? 1 : 0,
      lineage: reader.canReadLineage ? 1 : 0,
      partner: reader.partnerId,
      limit: first + 1,
    });
    const edges = rows.slice(0, first).map((row) => ({
      cursor: encodeCursor(row.sequence),
      node: toEventView(toStoredEvent(row), reader.canReadLineage),
    }));
    return { edges, pageInfo: { endCursor: edges.at(-1)?.cursor ?? args.after ?? null, hasNextPage: rows.length > first } };
  }
}
