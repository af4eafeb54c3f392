import type { Statement } from "better-sqlite3";
import { and, eq, lt, sql } from "drizzle-orm";
import type { HubDb } from "../db/client.ts";
import { cards, holders } from "../db/schema.ts";
import type { CardRecord } from "./card-state.ts";

/** One card instance with its holder, as CardRecord's fields (raw SQL: drizzle's row mapping cost more than the lookup). */
const CARD_RECORD_SELECT = `SELECT c.number AS number, c.issue_count AS issueCount, c.version AS version, c.state AS state,
  c.valid_from AS validFrom, c.valid_until AS validUntil, c.state_changed_at AS stateChangedAt,
  c.previous_number AS previousNumber, c.holder_id AS holderId, h.status AS holderStatus, h.current_number AS holderCurrentNumber
  FROM cards c INNER JOIN holders h ON h.id = c.holder_id`;

/** Prepared read statements over card instances joined with their holder (hot path). */
export class CardQueries {
  readonly #byNumber: Statement<[string], CardRecord>;
  readonly #byNumbers: Statement<[string], CardRecord>;
  readonly #facts;
  readonly #due;

  constructor(db: HubDb) {
    this.#byNumber = db.$client.prepare(`${CARD_RECORD_SELECT} WHERE c.number = ? ORDER BY c.issue_count DESC`);
    // One statement for any batch size: the numbers travel as one JSON array parameter.
    this.#byNumbers = db.$client.prepare(
      `${CARD_RECORD_SELECT} WHERE c.number IN (SELECT value FROM json_each(?)) ORDER BY c.number, c.issue_count DESC`,
    );
    this.#facts = db
      .select({ englishNameDigest: holders.englishNameDigest, chineseNameDigest: holders.chineseNameDigest, birthDate: cards.birthDate })
      .from(cards)
      .innerJoin(holders, eq(holders.id, cards.holderId))
      .where(eq(cards.number, sql.placeholder("number")))
      .limit(1)
      .prepare();
    this.#due = db
      .select({ number: cards.number, issueCount: cards.issueCount })
      .from(cards)
      .where(and(eq(cards.state, "VALID"), lt(cards.validUntil, sql.placeholder("today"))))
      .limit(sql.placeholder("limit"))
      .prepare();
  }

  /** Every instance of a number, newest issue first. */
  instancesOf(number: string): CardRecord[] {
    return this.#byNumber.all(number);
  }

  /** Every instance of each number, grouped by number, newest issue first. */
  instancesOfMany(numbers: string[]): Map<string, CardRecord[]> {
    const grouped = new Map<string, CardRecord[]>();
    if (numbers.length === 0) return grouped;
    for (const row of this.#byNumbers.all(JSON.stringify(numbers))) {
      const list = grouped.get(row.number);
      if (list) list.push(row);
      else grouped.set(row.number, [row]);
    }
    return grouped;
  }

  /** What a verification compares against: the holder's name digests and the card's birth date. */
  holderFacts(number: string): { englishNameDigest: string | null; chineseNameDigest: string | null; birthDate: string } | undefined {
    return this.#facts.get({ number });
  }

  latestOf(number: string): CardRecord | undefined {
    return this.instancesOf(number)[0];
  }

  /** Up to `limit` instances stored VALID whose validUntil is before `today` (the expiry sweep's next batch). */
  dueForExpiry(today: string, limit: number): { number: string; issueCount: number }[] {
    return this.#due.all({ today, limit });
  }
}
