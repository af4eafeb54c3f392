import { CLOUD_EVENT_TYPES } from "../../src/webhooks/cloud-event.ts";
import type { EventType } from "../../src/events/event-catalogue.ts";
import type { Database } from "better-sqlite3";
import type { TestReceiver } from "./receiver.ts";
import type { TestHub } from "./temp-hub.ts";
import { issue, v2023 } from "./webhook-fixtures.ts";

/**
 * The end-to-end count of the fault-injection tests (test/delivery/): what a database committed,
 * against what real receivers accepted, verified, under which `webhook-id`. A partner dedupes on
 * `webhook-id`, so two promises are checked: every committed event reaches every receiver that
 * should have it, and no id ever names two different events (the same id always carries the same
 * bytes: sequence, subject, type, time and data).
 */
export interface CommittedEvent {
  id: string;
  sequence: number;
  cloudType: string;
  cardNumber: string;
  occurredAt: string;
}


/** Every event the database holds, by id. */
export function committedEvents(db: Database): Map<string, CommittedEvent> {
  const rows = db.prepare("SELECT sequence, type, card_number AS cardNumber, occurred_at AS occurredAt FROM events ORDER BY sequence").all() as {
    sequence: number;
    type: string;
    cardNumber: string;
    occurredAt: string;
  }[];
  return new Map(rows.map((row) => [`evt_${row.sequence}`, { id: `evt_${row.sequence}`, sequence: row.sequence, cloudType: CLOUD_EVENT_TYPES[row.type as EventType], cardNumber: row.cardNumber, occurredAt: row.occurredAt }]));
}

/** Deliveries the ledger still owes. */
export function owedCount(db: Database): number {
  return (db.prepare("SELECT count(*) AS n FROM owed_deliveries").get() as { n: number }).n;
}

/** Attempts logged as started and never finished. */
export function pendingAttempts(db: Database): number {
  return (db.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'PENDING'").get() as { n: number }).n;
}

/** Whether the receiver holds every one of `events` (by id). */
export function hasAll(receiver: TestReceiver, events: Iterable<string>): boolean {
  const ids = receiver.ids();
  for (const id of events) if (!ids.has(id)) return false;
  return true;
}

/** How many of `events` the receiver is still missing. */
export function missing(receiver: TestReceiver, events: Iterable<string>): number {
  const ids = receiver.ids();
  let n = 0;
  for (const id of events) if (!ids.has(id)) n++;
  return n;
}

/**
 * What is wrong with what one receiver accepted, given the events it should have (`expected`,
 * each checked against its committed content): unverified requests, a header id that is not the
 * body's, an id carrying two different bodies, an expected event missing or arriving with other
 * content. Empty when all is well. Ids the receiver holds beyond `expected` are allowed only when
 * `others` vouches for them (events of another database the receiver legitimately saw).
 */
export function deliveryProblems(receiver: TestReceiver, expected: ReadonlyMap<string, CommittedEvent>, others: ReadonlyMap<string, CommittedEvent> = new Map()): string[] {
  const problems: string[] = [];
  const unverified = receiver.received.filter((r) => !r.verified).map((r) => r.id);
  if (unverified.length > 0) problems.push(`${unverified.length} requests failed verification (${unverified.slice(0, 5).join(", ")})`);
  const bodies = new Map<string, Set<string>>();
  for (const r of receiver.received) {
    if (r.event.id !== r.id) problems.push(`webhook-id ${r.id} carried the body of ${r.event.id}`);
    let seen = bodies.get(r.id);
    if (!seen) bodies.set(r.id, (seen = new Set()));
    seen.add(r.body);
  }
  for (const [id, seen] of bodies) if (seen.size > 1) problems.push(`id ${id} was used for ${seen.size} different bodies`);
  const missed = [...expected.keys()].filter((id) => !bodies.has(id));
  if (missed.length > 0) problems.push(`${missed.length} of ${expected.size} committed events never arrived (${missed.slice(0, 8).join(", ")})`);
  for (const [id, seen] of bodies) {
    const event = expected.get(id) ?? others.get(id);
    if (!event) {
      problems.push(`id ${id} names no committed event`);
      continue;
    }
    for (const body of seen) {
      const got = JSON.parse(body) as { type: string; subject?: string; time: string; data: { sequence?: number } };
      if (got.data.sequence !== event.sequence || got.subject !== event.cardNumber || got.type !== event.cloudType || got.time !== event.occurredAt) {
        problems.push(`id ${id} arrived as ${got.type} #${got.data.sequence} of ${got.subject}, but the committed event is ${event.cloudType} #${event.sequence} of ${event.cardNumber}`);
      }
    }
  }
  return problems;
}

/**
 * Issues `count` new cards (numbers `from`, `from + 1`, ..., one holder per ten numbers so no
 * birth date runs out), a few at a time, as an issuer's system would; each commits one event.
 */
export async function issueCards(hub: TestHub, issuer: string, from: number, count: number, parallel = 8): Promise<string[]> {
  const numbers = Array.from({ length: count }, (_, i) => cardNumber(from + i));
  for (let i = 0; i < numbers.length; i += parallel) {
    await Promise.all(numbers.slice(i, i + parallel).map((number) => issue(hub, issuer, number)));
  }
  return numbers;
}

/** The n-th test card number (n up to about 300,000). */
function cardNumber(n: number): string {
  const birth = new Date(Date.UTC(1950, 0, 1) + Math.floor(n / 10) * 86_400_000).toISOString().slice(0, 10);
  return v2023(n % 10, birth);
}
