import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { describe, expect, it } from "vitest";
import { issueCard } from "../../src/cards/card-issuing.ts";
import { openDatabase, type HubDb } from "../../src/db/client.ts";
import * as schema from "../../src/db/schema.ts";
import { createServices } from "../../src/app/services.ts";
import { Digester } from "../../src/hub-secret.ts";
import { TEST_SECRET, TestClock, tempDir } from "../helpers/temp-hub.ts";

const MIGRATIONS = path.resolve(import.meta.dirname, "../../drizzle");

/** A copy of the migrations up to and including `lastTag`: a database as an older hub left it. */
function migrationsUpTo(lastTag: string): string {
  const dir = tempDir("fpr-hub-migrations-");
  fs.cpSync(MIGRATIONS, dir, { recursive: true });
  const journalFile = path.join(dir, "meta/_journal.json");
  const journal = JSON.parse(fs.readFileSync(journalFile, "utf8"));
  const last = journal.entries.findIndex((e: { tag: string }) => e.tag === lastTag);
  expect(last).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, last + 1);
  fs.writeFileSync(journalFile, JSON.stringify(journal));
  return dir;
}

describe("watchlist migration", () => {
  it("carries watches kept by holder over as every number of the holder, then drops the old table", () => {
    const file = path.join(tempDir(), "hub.sqlite");
    const sqlite = new Database(file);
    sqlite.pragma("foreign_keys = ON");
    const old = drizzle(sqlite, { schema });
    migrate(old, { migrationsFolder: migrationsUpTo("0007_watched_numbers") });
    const clock = new TestClock();
    const services = createServices({ db: Object.assign(old, { $client: sqlite }) as HubDb, digester: new Digester(TEST_SECRET), now: clock.now });
    const issue = (number: string, extra: Record<string, unknown> = {}) =>
      issueCard(services.register, { number, validFrom: "2016-05-10", validUntil: "2026-05-09", englishName: "MIGRATE, TEST", ...extra });
    issue("CAN110081080319");
    issue("911124198108030024", { previousNumber: "CAN110081080319", validFrom: "2024-03-01", validUntil: "2034-02-28" });
    issue("911124198108030024", { issueCount: 1, validFrom: "2024-06-01", validUntil: "2034-05-31" });
    issue("932682198501010017", { validFrom: "2024-03-01", validUntil: "2034-02-28" });
    const partner = services.partners.create({ name: "Old Hotel", industry: "ACCOMMODATION" });
    const holder = services.register.queries.latestOf("CAN110081080319")!.holderId;
    sqlite.prepare("INSERT INTO watches (partner_id, holder_id, created_at) VALUES (?, ?, ?)").run(partner.id, holder, "2025-01-02T03:04:05.000Z");
    services.audit.close();
    sqlite.close();

    const db = openDatabase(file);
    expect(db.$client.prepare("SELECT partner_id AS partnerId, number, created_at AS createdAt FROM watched_numbers ORDER BY number").all()).toEqual([
      { partnerId: partner.id, number: "911124198108030024", createdAt: "2025-01-02T03:04:05.000Z" },
      { partnerId: partner.id, number: "CAN110081080319", createdAt: "2025-01-02T03:04:05.000Z" },
    ]);
    expect(db.$client.prepare("SELECT name FROM sqlite_master WHERE name = 'watches'").all()).toEqual([]);
    db.$client.close();
  });
});
