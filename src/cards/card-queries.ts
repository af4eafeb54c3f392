import { desc, eq, sql } from "drizzle-orm";
import type { HubDb } from "../db/client.ts";
import { cards, holders } from "../db/schema.ts";
import type { CardRecord } from "./card-state.ts";

const cardRecordColumns = {
  number: cards.number,
  issueCount: cards.issueCount,
  version: cards.version,
  state: cards.state,
  validFrom: cards.validFrom,
  validUntil: cards.validUntil,
  stateChangedAt: cards.stateChangedAt,
  previousNumber: cards.previousNumber,
  holderId: cards.holderId,
  holderStatus: holders.status,
  holderCurrentNumber: holders.currentNumber,
};

/** Prepared read statements over card instances joined with their holder (hot path). */
export class CardQueries {
  readonly #byNumber;
  readonly #byNumbers;
  readonly #facts;

  constructor(db: HubDb) {
    const base = () => db.select(cardRecordColumns).from(cards).innerJoin(holders, eq(holders.id, cards.holderId));
    this.#byNumber = base()
      .where(eq(cards.number, sql.placeholder("number")))
      .orderBy(desc(cards.issueCount))
      .prepare();
    // One statement for any batch size: the numbers travel as one JSON array parameter.
    this.#byNumbers = base()
      .where(sql`${cards.number} IN (SELECT value FROM json_each(${sql.placeholder("numbers")}))`)
      .orderBy(cards.number, desc(cards.issueCount))
      .prepare();
    this.#facts = db
      .select({ englishNameDigest: holders.englishNameDigest, chineseNameDigest: holders.chineseNameDigest, birthDate: cards.birthDate })
      .from(cards)
      .innerJoin(holders, eq(holders.id, cards.holderId))
      .where(eq(cards.number, sql.placeholder("number")))
      .limit(1)
      .prepare();
  }

  /** Every instance of a number, newest issue first. */
  instancesOf(number: string): CardRecord[] {
    return this.#byNumber.all({ number }) as CardRecord[];
  }

  /** Every instance of each number, grouped by number, newest issue first. */
  instancesOfMany(numbers: string[]): Map<string, CardRecord[]> {
    const grouped = new Map<string, CardRecord[]>();
    if (numbers.length === 0) return grouped;
    for (const row of this.#byNumbers.all({ numbers: JSON.stringify(numbers) }) as CardRecord[]) {
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
}
