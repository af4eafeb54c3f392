import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closePostgresDatabase, openPostgresDatabase, type PgHubDb } from "../../src/db/pg-client.ts";
import { events } from "../../src/db/pg-schema.ts";
import { createScratchDatabase, type ScratchDatabase } from "./pg-scratch-database.ts";

/** The SQLite store's own insert (cards/register.store.ts), in pg's placeholders: no sequence given. */
const INSERT_EVENT = `
  INSERT INTO events (type, card_number, issue_count, holder_id, occurred_at, data)
  VALUES ('CARD_ISSUED', $1, 0, 1, '2025-01-01T00:00:00.000Z', '{}')
  RETURNING sequence`;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let scratch: ScratchDatabase;
let db: PgHubDb;
const clients: pg.Client[] = [];

async function connection(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: scratch.url });
  await client.connect();
  clients.push(client);
  return client;
}

/** One writer: transactions that insert an event, wait at random, then commit or (every fifth) roll back. */
async function write(client: pg.Client, transactions: number): Promise<number[]> {
  const committed: number[] = [];
  for (let i = 0; i < transactions; i++) {
    await client.query("BEGIN");
    await pause(Math.random() * 3);
    const { rows } = await client.query<{ sequence: number }>(INSERT_EVENT, [`W${i}`]);
    await pause(Math.random() * 8);
    if (Math.random() < 0.2) {
      await client.query("ROLLBACK");
    } else {
      await client.query("COMMIT");
      committed.push(rows[0].sequence);
    }
  }
  return committed;
}

/** A change-feed reader: polls "events after the cursor" until told to stop, checking what it sees. */
async function read(client: pg.Client, isDone: () => boolean): Promise<{ seen: number[]; problems: string[] }> {
  const seen: number[] = [];
  const problems: string[] = [];
  for (let last = false; !last; ) {
    last = isDone();
    const cursor = seen.at(-1) ?? 0;
    const page = await client.query<{ sequence: number }>("SELECT sequence FROM events WHERE sequence > $1 ORDER BY sequence", [cursor]);
    for (const { sequence } of page.rows) {
      if (sequence <= (seen.at(-1) ?? 0)) problems.push(`${sequence} after ${seen.at(-1)}`);
      seen.push(sequence);
    }
    // Nothing may appear at or below a cursor once it has passed: that event would be skipped for good.
    const below = await client.query<{ n: number }>("SELECT count(*) AS n FROM events WHERE sequence <= $1", [seen.at(-1) ?? 0]);
    if (below.rows[0].n !== seen.length) problems.push(`${below.rows[0].n} events at or below ${seen.at(-1)}, ${seen.length} read`);
    await pause(Math.random() * 2);
  }
  return { seen, problems };
}

describe("PostgreSQL event sequences in commit order", () => {
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    db = await openPostgresDatabase(scratch.options());
  });
  beforeEach(async () => {
    await db.$client.query("TRUNCATE events");
    await db.$client.query("UPDATE event_sequence SET last_sequence = 0");
  });
  afterAll(async () => {
    for (const client of clients) await client.end();
    if (db) await closePostgresDatabase(db);
    await scratch?.drop();
  });

  it("makes a second writer wait for the first's commit, and a rollback gives its number back", async () => {
    const [first, second] = [await connection(), await connection()];
    await first.query("BEGIN");
    expect((await first.query(INSERT_EVENT, ["A"])).rows).toEqual([{ sequence: 1 }]);
    let secondSequence: number | null = null;
    const waiting = second.query(INSERT_EVENT, ["B"]).then((result) => { secondSequence = result.rows[0].sequence; });
    await pause(300);
    expect(secondSequence).toBeNull();
    await first.query("ROLLBACK");
    await waiting;
    expect(secondSequence).toBe(1);
    // drizzle's typed insert leaves the sequence to the trigger too.
    expect(await db.insert(events).values({ type: "CARD_EXPIRED", cardNumber: "C", issueCount: 0, holderId: 1, occurredAt: "t", data: "{}" }).returning({ sequence: events.sequence }))
      .toEqual([{ sequence: 2 }]);
  });

  it("takes a given sequence only above every one handed out, and continues after it", async () => {
    const given = "INSERT INTO events (sequence, type, card_number, issue_count, holder_id, occurred_at, data) VALUES ($1, 'CARD_ISSUED', 'X', 0, 1, 't', '{}')";
    await db.$client.query(INSERT_EVENT, ["A"]);
    await db.$client.query(given, [10]);
    expect((await db.$client.query(INSERT_EVENT, ["B"])).rows).toEqual([{ sequence: 11 }]);
    await expect(db.$client.query(given, [5])).rejects.toMatchObject({ code: "23514" });
    await expect(db.$client.query(given, [11])).rejects.toMatchObject({ code: "23514" });
  });

  it("never lets a reader of 'events after the cursor' see a sequence below one it read; the final sequences are 1..N", async () => {
    const writers = await Promise.all(Array.from({ length: 6 }, () => connection()));
    const reader = await connection();
    let writing = true;
    const reading = read(reader, () => !writing);
    const committed = (await Promise.all(writers.map((client) => write(client, 20)))).flat();
    writing = false;
    const { seen, problems } = await reading;

    expect(problems).toEqual([]);
    const all = (await db.$client.query<{ sequence: number }>("SELECT sequence FROM events ORDER BY sequence")).rows.map((row) => row.sequence);
    expect(all).toEqual(Array.from({ length: committed.length }, (_, i) => i + 1));
    expect(seen).toEqual(all);
    expect([...committed].sort((a, b) => a - b)).toEqual(all);
    expect(committed.length).toBeGreaterThan(60);
  });
});
