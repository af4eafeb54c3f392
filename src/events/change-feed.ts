import type { HubDb } from "../db/client.ts";
import { HubError } from "../errors.ts";
import { eventVisibleSql } from "./event-visibility.ts";
import { EVENT_TYPES, visibleEventData, type EventType, type StoredEvent } from "./event-catalogue.ts";

export const MAX_PAGE_SIZE = 1000;

export interface EventView {
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

type EventRow = { sequence: number; type: string; cardNumber: string; issueCount: number; holderId: number; occurredAt: string; data: string };

export function toStoredEvent(row: EventRow): StoredEvent {
  return { ...row, type: row.type as EventType, data: { ...JSON.parse(row.data), sequence: row.sequence } };
}

export function toEventView(event: StoredEvent, canReadLineage: boolean): EventView {
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
  readonly #page;

  constructor(db: HubDb) {
    this.#page = db.$client.prepare(`
      SELECT sequence, type, card_number AS cardNumber, issue_count AS issueCount, holder_id AS holderId,
             occurred_at AS occurredAt, data
      FROM events
      WHERE sequence > @after
        AND (@types IS NULL OR type IN (SELECT value FROM json_each(@types)))
        AND ${eventVisibleSql({ cardNumber: "events.card_number", holderId: "events.holder_id" }, { seesAll: "@all = 1", lineage: "@lineage = 1", partnerId: "@partner" })}
      ORDER BY sequence
      LIMIT @limit`);
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
    const rows = this.#page.all({
      after: args.after ? decodeCursor(args.after) : 0,
      types: args.types && args.types.length > 0 ? JSON.stringify(args.types) : null,
      all: reader.seesAll ? 1 : 0,
      lineage: reader.canReadLineage ? 1 : 0,
      partner: reader.partnerId,
      limit: first + 1,
    }) as EventRow[];
    const edges = rows.slice(0, first).map((row) => ({
      cursor: encodeCursor(row.sequence),
      node: toEventView(toStoredEvent(row), reader.canReadLineage),
    }));
    return { edges, pageInfo: { endCursor: edges.at(-1)?.cursor ?? args.after ?? null, hasNextPage: rows.length > first } };
  }
}
