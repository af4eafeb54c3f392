import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { expireDueCards } from "../../src/cards/card-expiry.ts";
import { openDatabase } from "../../src/db/client.ts";
import { deferIndexes } from "../../src/db/deferred-indexes.ts";
import { importStream, type ImportFormat } from "../../src/imports/import-runner.ts";
import { csvHeader, syntheticRecords, toCsvLine } from "../../src/demo/synthetic-file.ts";
import { TestClock, tempDir, tempServices } from "../helpers/temp-hub.ts";
import { v2023 } from "../helpers/webhook-fixtures.ts";

const clock = () => new TestClock(new Date("2026-01-15T04:00:00Z"));

function count(services: ReturnType<typeof tempServices>, table: string): number {
  return (services.db.$client.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

async function load(services: ReturnType<typeof tempServices>, content: string | Buffer, format: ImportFormat = "ndjson", options: { noEvents?: boolean } = {}) {
  const rejectsPath = path.join(tempDir(), "rejects.ndjson");
  const summary = await importStream(services.register, Readable.from([Buffer.from(content)]), { format, rejectsPath, batchSize: 4, ...options });
  const rejects = fs.existsSync(rejectsPath) ? fs.readFileSync(rejectsPath, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
  return { summary, rejects };
}

const good = (n: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ number: v2023(n), validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "IMPORT, TEST", ...extra });

describe("bulk import", () => {
  it("rejects exactly the bad rows, with line numbers and codes, and applies every good one whole", async () => {
    const services = tempServices(clock());
    const lines = [
      good(1),
      JSON.stringify({ number: "CAN110081080319", validFrom: "2016-05-10", validUntil: "2026-05-09", englishName: "MARTIN, CLAIRE" }),
      good(2, { number: "911124198108030025" }), // 3: bad check digit
      good(3, { validFrom: "2024-02-30" }), // 4: not a date
      good(4, { validUntil: "2023-01-01" }), // 5: until before from
      JSON.stringify({ number: "932682198501010017", previousNumber: "CAN110081080319", validFrom: "2024-03-01", validUntil: "2034-02-28", englishName: "X" }), // 6: lineage mismatch
      good(1, { validUntil: "2033-12-30" }), // 7: conflicting re-issue of line 1
      good(5, { state: "REVOKED" }), // 8: revoked without a reason
      good(6, { colour: "blue" }), // 9: unknown field
      "",
      good(7, { state: "REPORTED_LOST" }), // becomes line 12: fine, and lost
      `{"number": "${v2023(8)}", "validFrom": "2024-01-01", "validUn`, // becomes line 13: truncated
    ];
    const latin1 = Buffer.from(good(9, { englishName: "MÜLLER, JÖRG" }), "latin1"); // 11: wrong encoding
    // Lines 1-10, the Latin-1 line 11, then 12 (lost) and 13 (truncated, no final newline).
    const body = Buffer.concat([Buffer.from(`${lines.slice(0, 10).join("\n")}\n`), latin1, Buffer.from(`\n${lines[10]}\n${lines[11]}`)]);
    const { summary, rejects } = await load(services, body);
    expect(rejects.map((r) => [r.line, r.code])).toEqual([
      [3, "INVALID_CARD_NUMBER"],
      [4, "BAD_USER_INPUT"],
      [5, "BAD_USER_INPUT"],
      [6, "BAD_USER_INPUT"],
      [7, "CONFLICT"],
      [8, "BAD_USER_INPUT"],
      [9, "BAD_USER_INPUT"],
      [11, "BAD_USER_INPUT"],
      [13, "BAD_USER_INPUT"],
    ]);
    expect(rejects.find((r) => r.line === 11).message).toMatch(/UTF-8/);
    expect(rejects.find((r) => r.line === 13).message).toMatch(/truncated/);
    expect(rejects.find((r) => r.line === 3).errors[0].code).toBe("BAD_CHECK_DIGIT");
    expect(JSON.stringify(rejects)).not.toMatch(/MARTIN|IMPORT, TEST/);
    expect(summary).toMatchObject({ read: 12, created: 3, unchanged: 0, rejected: 9 });
    expect(count(services, "cards")).toBe(3);
    expect(services.lookup.checkCard(v2023(7), null, { canReadLineage: false }).result).toBe("REPORTED_LOST");
    expect(services.lookup.checkCard(v2023(1), null, { canReadLineage: false }).card?.validUntil).toBe("2033-12-31");
    expect(services.lookup.checkCard(v2023(5), null, { canReadLineage: false }).result).toBe("NOT_FOUND");
  });

  it("rolls back a record that fails after its card was written (revocation reason too long), keeping the rest of its batch", async () => {
    const services = tempServices(clock());
    const lines = [good(21), good(22, { state: "REVOKED", revocationReason: "x".repeat(501) }), good(23), good(24, { state: "REVOKED", revocationReason: "fraud" })];
    const { summary, rejects } = await load(services, `${lines.join("\n")}\n`);
    expect(rejects.map((r) => [r.line, r.code, r.field])).toEqual([[2, "BAD_USER_INPUT", "revocationReason"]]);
    expect(summary).toMatchObject({ read: 4, created: 3, rejected: 1 });
    // Not half-applied: no card, no holder, no event for line 2; the others are whole.
    expect(services.lookup.checkCard(v2023(22), null, { canReadLineage: false }).result).toBe("NOT_FOUND");
    expect(count(services, "cards")).toBe(3);
    expect(count(services, "holders")).toBe(3);
    expect((services.db.$client.prepare("SELECT count(*) AS n FROM events WHERE card_number = ?").get(v2023(22)) as { n: number }).n).toBe(0);
    expect(services.lookup.checkCard(v2023(24), null, { canReadLineage: false }).result).toBe("REVOKED");
    expect(services.lookup.checkCard(v2023(23), null, { canReadLineage: false }).result).toBe("VALID");
  });

  it("is idempotent: a second import of the same file changes nothing and emits no events", async () => {
    const services = tempServices(clock());
    const file = [...syntheticRecords({ cards: 400, seed: 3, asOf: "2026-01-01" })].map((r) => JSON.stringify(r)).join("\n");
    const first = await load(services, file);
    expect(first.summary).toMatchObject({ read: 400, created: 400, rejected: 0 });
    const snapshot = () => JSON.stringify(services.db.$client.prepare("SELECT * FROM cards ORDER BY number, issue_count").all());
    const before = snapshot();
    const events = count(services, "events");
    const second = await load(services, file);
    expect(second.summary).toMatchObject({ read: 400, created: 0, unchanged: 400, rejected: 0 });
    expect(count(services, "events")).toBe(events);
    expect(snapshot()).toBe(before);
  });

  it("reads CSV with a header, and the generator's file round-trips through it", async () => {
    const services = tempServices(clock());
    const records = [...syntheticRecords({ cards: 120, seed: 9, asOf: "2026-01-01" })];
    const csv = [csvHeader(), ...records.map(toCsvLine), 'number,issueCount', "bad,\"unterminated"].join("\r\n");
    const { summary, rejects } = await load(services, csv, "csv");
    expect(summary).toMatchObject({ read: 122, created: 120, rejected: 2 });
    expect(rejects.map((r) => r.line)).toEqual([122, 123]);
    const states = services.db.$client.prepare("SELECT state, count(*) AS n FROM cards GROUP BY state").all() as { state: string }[];
    expect(states.map((s) => s.state).sort()).toEqual(expect.arrayContaining(["SUPERSEDED", "VALID"]));
    await expect(load(tempServices(clock()), "numbr,validFrom\nx,y", "csv")).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
  });

  it("stores cards already expired as EXPIRED on a first load without events, so no expiry events follow", async () => {
    const services = tempServices(clock());
    await load(services, [good(1), good(2, { validFrom: "2023-12-01", validUntil: "2025-06-30" })].join("\n"), "ndjson", { noEvents: true });
    const rows = services.db.$client.prepare("SELECT number, state, state_changed_at AS at FROM cards ORDER BY number").all() as { number: string; state: string; at: string }[];
    expect(rows.find((r) => r.number === v2023(2))).toMatchObject({ state: "EXPIRED", at: "2025-06-30T16:00:00.000Z" });
    expect(rows.find((r) => r.number === v2023(1))?.state).toBe("VALID");
    expect(await expireDueCards(services.register)).toBe(0);
    expect(count(services, "events")).toBe(0);
  });

  it("loads without events only into an empty register", async () => {
    const services = tempServices(clock());
    const { summary } = await load(services, [good(1), good(2)].join("\n"), "ndjson", { noEvents: true });
    expect(summary.created).toBe(2);
    expect(count(services, "events")).toBe(0);
    await expect(load(services, good(3), "ndjson", { noEvents: true })).rejects.toMatchObject({ code: "CONFLICT" });
    await load(services, good(3));
    expect(count(services, "events")).toBe(1);
  });

  it("builds the register's secondary indexes once after a first load, and rebuilds them at open if that load was interrupted", async () => {
    const indexes = (services: ReturnType<typeof tempServices>) =>
      (services.db.$client.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('holders', 'cards') ORDER BY name").all() as { name: string }[]).map(
        (row) => row.name,
      );
    const services = tempServices(clock());
    const all = indexes(services);
    expect(all).toEqual(expect.arrayContaining(["cards_holder_idx", "holders_status_idx", "holders_province_rollout_idx"]));
    const records = [...syntheticRecords({ cards: 300, seed: 4, asOf: "2026-01-01" })].map((r) => JSON.stringify(r)).join("\n");
    await load(services, records, "ndjson", { noEvents: true });
    expect(indexes(services)).toEqual(all);
    expect(count(services, "deferred_indexes")).toBe(0);
    // The rebuilt indexes hold every row: the planner uses them and they agree with a full scan.
    const byStatus = services.db.$client.prepare("SELECT count(*) AS n FROM holders INDEXED BY holders_status_idx WHERE status = 'ACTIVE'").get() as { n: number };
    expect(byStatus.n).toBe((services.db.$client.prepare("SELECT count(*) AS n FROM holders NOT INDEXED WHERE status = 'ACTIVE'").get() as { n: number }).n);
    expect(services.db.$client.pragma("integrity_check", { simple: true })).toBe("ok");

    // A load that died after dropping them: the next open rebuilds them.
    const interrupted = tempServices(clock());
    expect(deferIndexes(interrupted.db.$client)).toEqual(expect.arrayContaining(["cards_holder_idx", "holders_status_idx"]));
    expect(indexes(interrupted)).not.toContain("holders_status_idx");
    interrupted.db.$client.close();
    const reopened = openDatabase(interrupted.file);
    expect(indexes({ db: reopened } as ReturnType<typeof tempServices>)).toEqual(all);
    expect((reopened.$client.prepare("SELECT count(*) AS n FROM deferred_indexes").get() as { n: number }).n).toBe(0);
    reopened.$client.close();
  });
});
