import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { issueCard, type IssueCardData } from "../../src/cards/card-issuing.ts";
import { makeV2023Number } from "../../src/card-numbers/card-number-generator.ts";
import { reportCardLost, revokeCard, setHolderStatus } from "../../src/cards/card-register.ts";
import type { HolderStatus } from "../../src/cards/card-state.ts";
import { HubError } from "../../src/errors.ts";
import { tempServices, TestClock } from "../helpers/temp-hub.ts";

const V17 = "CAN110081080319"; // Canada, Beijing, 1981-08-03
const V23 = "911124198108030024"; // its consistent V2023 number
const SAU = "932682198501010017";
const LINEAGE = { canReadLineage: true };

let clock: TestClock;
let s: ReturnType<typeof tempServices>;
beforeEach(() => {
  clock = new TestClock();
  s = tempServices(clock);
});
afterEach(() => {
  s.db.$client.close();
  fs.rmSync(path.dirname(s.file), { recursive: true, force: true });
});

const canadian = (sequence: number, birthDate = "1981-08-03", nationalityNumeric = "124") =>
  makeV2023Number({ provinceCode: "31", nationalityNumeric, birthDate, sequence });
function input(number: string, extra: Partial<IssueCardData> = {}): IssueCardData {
  const old = number.replace(/[\s-]/g, "").length === 15;
  const validity = old ? { validFrom: "2016-05-10", validUntil: "2026-05-09" } : { validFrom: "2024-03-01", validUntil: "2034-02-28" };
  return { number, ...validity, englishName: "MARTIN, CLAIRE", sex: "FEMALE", ...extra };
}
const issue = (number: string, extra: Partial<IssueCardData> = {}) => issueCard(s.register, input(number, extra));
const instances = (number: string) => s.register.queries.instancesOf(number);
const check = (number: string, issueCount?: number) => s.lookup.checkCard(number, issueCount, LINEAGE).result;
const EVENTS_SQL =
  "SELECT sequence, type, card_number AS cardNumber, issue_count AS issueCount, holder_id AS holderId, occurred_at AS occurredAt, data FROM events ORDER BY sequence";
const events = () => (s.db.$client.prepare(EVENTS_SQL).all() as any[]).map((e) => ({ ...e, data: JSON.parse(e.data) }));
const snapshot = () => ["cards", "holders", "events"].map((t) => s.db.$client.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all());

/** Runs a call that must be rejected with `code`, and checks that nothing stored changed. */
function rejects(code: string, call: () => unknown): HubError {
  const before = snapshot();
  let error: unknown;
  try { call(); } catch (e) { error = e; }
  expect(error).toBeInstanceOf(HubError);
  expect((error as HubError).code, (error as Error).message).toBe(code);
  expect(snapshot()).toEqual(before);
  return error as HubError;
}

describe("issueCard", () => {
  it("issues first V2017 and V2023 cards, normalizing the number", () => {
    const old = issue("can 1100-8108 0319");
    const neu = issue(SAU);
    expect(old).toMatchObject({ number: V17, issueCount: 0, version: "V2017", state: "VALID", holderStatus: "ACTIVE", holderCurrentNumber: V17, previousNumber: null });
    expect(neu).toMatchObject({ number: SAU, issueCount: 0, version: "V2023", state: "VALID", holderCurrentNumber: SAU });
    expect(old.holderId).not.toBe(neu.holderId);
    expect(events().map((e) => [e.type, e.cardNumber])).toEqual([["CARD_ISSUED", V17], ["CARD_ISSUED", SAU]]);
    expect([check(V17), check(SAU)]).toEqual(["VALID", "VALID"]);
  });

  it("treats an identical repeat (same normalized details) as a no-op", () => {
    const first = issue(V23);
    const before = snapshot();
    expect(issue(V23)).toEqual(first);
    expect(issue(V23, { issueCount: 0, englishName: " claire  martin " })).toEqual(first);
    expect(snapshot()).toEqual(before);
  });

  it.each<[string, Partial<IssueCardData>]>([
    ["validUntil", { validUntil: "2034-02-27" }],
    ["validFrom", { validFrom: "2024-03-02" }],
    ["englishName", { englishName: "MARTIN, CLAIRA" }],
    ["chineseName", { chineseName: "马丁" }],
    ["sex", { sex: "MALE" }],
  ])("rejects the same (number, issueCount) with a different %s as CONFLICT", (_field, change) => {
    const stored = issue(V23);
    rejects("CONFLICT", () => issue(V23, change));
    expect(instances(V23)).toEqual([stored]);
  });

  it("re-issues a V2023 number with a higher issue count, superseding the VALID instance in one step", () => {
    const first = issue(SAU);
    clock.advance(60_000);
    const second = issue(SAU, { issueCount: 1, validFrom: "2025-06-01", validUntil: "2035-05-31" });
    expect(second).toMatchObject({ issueCount: 1, state: "VALID", holderId: first.holderId });
    expect(instances(SAU).map((c) => [c.issueCount, c.state])).toEqual([[1, "VALID"], [0, "SUPERSEDED"]]);
    const [, superseded, issued] = events();
    expect(superseded).toMatchObject({ type: "CARD_SUPERSEDED", issueCount: 0, data: { state: "SUPERSEDED", previousState: "VALID" } });
    expect(issued).toMatchObject({ type: "CARD_ISSUED", issueCount: 1, sequence: superseded.sequence + 1, occurredAt: superseded.occurredAt });
    expect([check(SAU), check(SAU, 0), check(SAU, 1)]).toEqual(["VALID", "SUPERSEDED", "VALID"]);
  });

  it("rolls the supersede back when the CARD_ISSUED event cannot be written", () => {
    issue(SAU);
    s.db.$client.exec(`CREATE TEMP TRIGGER fail_issue BEFORE INSERT ON main.events WHEN NEW.type = 'CARD_ISSUED' BEGIN SELECT RAISE(ABORT, 'boom'); END`);
    const before = snapshot();
    expect(() => issue(SAU, { issueCount: 1 })).toThrow(/boom/);
    expect(snapshot()).toEqual(before);
    expect(instances(SAU).map((c) => c.state)).toEqual(["VALID"]);
  });

  it("rejects an issue count lower than or equal to the latest (with other details) as CONFLICT", () => {
    issue(SAU);
    issue(SAU, { issueCount: 2 });
    rejects("CONFLICT", () => issue(SAU, { issueCount: 1 }));
    rejects("CONFLICT", () => issue(SAU, { issueCount: 2, validUntil: "2034-01-01" }));
  });

  it("never re-issues a V2017 number", () => {
    issue(V17);
    rejects("CONFLICT", () => issue(V17, { issueCount: 1 }));
  });

  it("switches V2017 → V2023 via previousNumber: old card SUPERSEDED, holder moves to the new number", () => {
    const old = issue(V17);
    clock.advance(1000);
    const neu = issue(V23, { previousNumber: V17 });
    expect(neu).toMatchObject({ version: "V2023", previousNumber: V17, holderId: old.holderId, holderCurrentNumber: V23 });
    expect(instances(V17)[0]).toMatchObject({ state: "SUPERSEDED", holderCurrentNumber: V23 });
    expect(s.lookup.checkCard(V17, null, LINEAGE)).toMatchObject({ result: "SUPERSEDED", card: { currentNumber: V23 } });
    const [, superseded, issued] = events();
    expect(superseded).toMatchObject({ type: "CARD_SUPERSEDED", cardNumber: V17, data: { currentNumber: V23, previousState: "VALID" } });
    expect(issued).toMatchObject({ type: "CARD_ISSUED", cardNumber: V23, sequence: superseded.sequence + 1, data: { previousNumber: V17 } });
    // A later re-issue keeps the lineage link.
    expect(issue(V23, { issueCount: 1 }).previousNumber).toBe(V17);
  });

  it("checks the lineage of a switch", () => {
    issue(V17);
    rejects("BAD_USER_INPUT", () => issue(canadian(1, "1981-08-03", "682"), { previousNumber: V17 }));
    rejects("BAD_USER_INPUT", () => issue(canadian(1, "1981-08-04"), { previousNumber: V17 }));
    rejects("BAD_USER_INPUT", () => issue(V23, { previousNumber: SAU }));
    expect(rejects("INVALID_CARD_NUMBER", () => issue(V23, { previousNumber: "CAN11008108031" })).extensions.field).toBe("previousNumber");
    rejects("NOT_FOUND", () => issue(canadian(2, "1990-01-02"), { previousNumber: "CAN110090010213" }));
    issue(V23, { previousNumber: V17 });
    rejects("CONFLICT", () => issue(canadian(3), { previousNumber: V17 }));
    expect(instances(V17)[0].holderCurrentNumber).toBe(V23);
  });

  it.each<[string, Partial<IssueCardData>, string]>([
    ["validFrom = validUntil", { validFrom: "2024-03-01", validUntil: "2024-03-01" }, V23],
    ["validFrom after validUntil", { validFrom: "2024-03-01", validUntil: "2024-02-01" }, V23],
    ["more than 10 years", { validFrom: "2024-03-01", validUntil: "2034-03-02" }, V23],
    ["V2023 before 2023-12-01", { validFrom: "2023-11-30", validUntil: "2033-11-29" }, V23],
    ["V2017 from 2023-12-01", { validFrom: "2023-12-01", validUntil: "2033-11-30" }, V17],
    ["validFrom 91 days ahead", { validFrom: "2025-09-14", validUntil: "2035-09-13" }, V23],
  ])("rejects validity %s as BAD_USER_INPUT", (_name, dates, number) => {
    rejects("BAD_USER_INPUT", () => issue(number, dates));
  });

  it("accepts validity on the boundaries, and issue counts up to 99", () => {
    expect(issue(V23, { validFrom: "2023-12-01", validUntil: "2033-11-30" }).state).toBe("VALID");
    expect(issue(V17, { validFrom: "2023-11-30", validUntil: "2033-11-29" }).state).toBe("VALID");
    expect(issue(SAU, { validFrom: "2025-09-13", validUntil: "2035-09-12" }).validFrom).toBe("2025-09-13");
    expect(issue(canadian(7), { issueCount: 99 }).issueCount).toBe(99);
  });

  it.each([["", "EMPTY"], ["932682198501010018", "BAD_CHECK_DIGIT"], ["110101199003070011", "NOT_FOREIGNER_NUMBER"], ["ABC123", "WRONG_LENGTH"]])("rejects malformed number %j as INVALID_CARD_NUMBER (%s)", (number, code) => {
    const error = rejects("INVALID_CARD_NUMBER", () => issue(number));
    expect(error.extensions).toMatchObject({ field: "number", errors: [expect.objectContaining({ code })] });
  });

  it.each([-1, 100, 1.5])("rejects issueCount %s as BAD_USER_INPUT", (issueCount) => {
    rejects("BAD_USER_INPUT", () => issue(V23, { issueCount }));
  });

  it.each(["", "   ", "-- , . '"])("rejects englishName %j as BAD_USER_INPUT", (englishName) => {
    rejects("BAD_USER_INPUT", () => issue(V23, { englishName }));
  });

  it("refuses a re-issue or a switch for an inactive holder", () => {
    issue(SAU);
    issue(V17);
    setHolderStatus(s.register, SAU, "CANCELLED");
    setHolderStatus(s.register, V17, "CANCELLED");
    rejects("CONFLICT", () => issue(SAU, { issueCount: 1 }));
    rejects("CONFLICT", () => issue(V23, { previousNumber: V17 }));
  });
});

describe("reportCardLost", () => {
  it("marks the latest instance by default, or the named one", () => {
    issue(SAU);
    issue(SAU, { issueCount: 1 });
    expect(reportCardLost(s.register, SAU)).toMatchObject({ issueCount: 1, state: "REPORTED_LOST" });
    expect(instances(SAU).map((c) => c.state)).toEqual(["REPORTED_LOST", "SUPERSEDED"]);
    expect(events().at(-1)).toMatchObject({ type: "CARD_REPORTED_LOST", issueCount: 1, data: { state: "REPORTED_LOST", previousState: "VALID" } });
  });

  it("fails the lost instance and passes its replacement", () => {
    issue(SAU);
    reportCardLost(s.register, SAU, 0);
    issue(SAU, { issueCount: 1 });
    expect(instances(SAU).map((c) => c.state)).toEqual(["VALID", "REPORTED_LOST"]);
    expect(s.lookup.checkCard(SAU, 0, LINEAGE)).toMatchObject({ result: "REPORTED_LOST", recognized: false, latestIssueCount: 1 });
    expect(s.lookup.checkCard(SAU, 1, LINEAGE)).toMatchObject({ result: "VALID", recognized: true });
    expect(events().map((e) => e.type)).toEqual(["CARD_ISSUED", "CARD_REPORTED_LOST", "CARD_ISSUED"]);
  });

  it("is a no-op when repeated, and refuses unknown or revoked cards", () => {
    issue(SAU);
    reportCardLost(s.register, SAU);
    const before = snapshot();
    expect(reportCardLost(s.register, SAU, 0).state).toBe("REPORTED_LOST");
    expect(snapshot()).toEqual(before);
    rejects("NOT_FOUND", () => reportCardLost(s.register, V23));
    rejects("NOT_FOUND", () => reportCardLost(s.register, SAU, 1));
    issue(V17);
    revokeCard(s.register, V17, "fraud");
    rejects("CONFLICT", () => reportCardLost(s.register, V17));
  });
});

describe("revokeCard", () => {
  it("revokes with one event; same reason repeats as a no-op, another reason conflicts", () => {
    issue(SAU);
    expect(revokeCard(s.register, SAU, "residence cancelled").state).toBe("REVOKED");
    expect(events().at(-1)).toMatchObject({ type: "CARD_REVOKED", data: { state: "REVOKED", previousState: "VALID" } });
    const before = snapshot();
    expect(revokeCard(s.register, SAU, "  residence cancelled ").state).toBe("REVOKED");
    expect(snapshot()).toEqual(before);
    rejects("CONFLICT", () => revokeCard(s.register, SAU, "another reason"));
    rejects("BAD_USER_INPUT", () => revokeCard(s.register, V17, "   "));
    rejects("NOT_FOUND", () => revokeCard(s.register, V17, "reason"));
    expect(s.db.$client.prepare("SELECT revocation_reason AS r FROM cards").get()).toEqual({ r: "residence cancelled" });
  });

  it("never makes a lost or revoked card valid again", () => {
    issue(SAU);
    issue(V23);
    revokeCard(s.register, SAU, "fraud");
    reportCardLost(s.register, V23);
    expect(issue(SAU).state).toBe("REVOKED");
    expect(issue(V23).state).toBe("REPORTED_LOST");
    setHolderStatus(s.register, V23, "CANCELLED");
    setHolderStatus(s.register, V23, "ACTIVE");
    expect([check(SAU), check(V23)]).toEqual(["REVOKED", "REPORTED_LOST"]);
  });
});

describe("setHolderStatus", () => {
  it("makes a valid card HOLDER_INACTIVE and back; repeats are no-ops", () => {
    issue(SAU);
    expect(setHolderStatus(s.register, SAU, "CANCELLED", "moved abroad").holderStatus).toBe("CANCELLED");
    expect(check(SAU)).toBe("HOLDER_INACTIVE");
    const data = { holderStatus: "CANCELLED", previousHolderStatus: "ACTIVE", state: "VALID", previousState: "VALID" };
    expect(events().at(-1)).toMatchObject({ type: "HOLDER_STATUS_CHANGED", data });
    const before = snapshot();
    setHolderStatus(s.register, SAU, "CANCELLED");
    expect(snapshot()).toEqual(before);
    setHolderStatus(s.register, SAU, "ACTIVE");
    expect(check(SAU)).toBe("VALID");
    expect(events().map((e) => e.type)).toEqual(["CARD_ISSUED", "HOLDER_STATUS_CHANGED", "HOLDER_STATUS_CHANGED"]);
  });

  it.each<HolderStatus>(["NATURALIZED", "DECEASED"])("treats %s as final", (status) => {
    issue(SAU);
    setHolderStatus(s.register, SAU, status);
    for (const next of ["ACTIVE", "CANCELLED", status === "DECEASED" ? "NATURALIZED" : "DECEASED"] as HolderStatus[]) {
      rejects("CONFLICT", () => setHolderStatus(s.register, SAU, next));
    }
    expect(setHolderStatus(s.register, SAU, status).holderStatus).toBe(status);
    rejects("BAD_USER_INPUT", () => setHolderStatus(s.register, SAU, "EMIGRATED" as HolderStatus));
  });

  it("logs the event on the holder's current card after a switch", () => {
    issue(V17);
    issue(V23, { previousNumber: V17 });
    setHolderStatus(s.register, V17, "CANCELLED");
    expect(events().at(-1)).toMatchObject({ type: "HOLDER_STATUS_CHANGED", cardNumber: V23, data: { cardNumber: V23, version: "V2023" } });
    expect(check(V23)).toBe("HOLDER_INACTIVE");
  });
});

describe("expiry", () => {
  it("is derived at read time on China's date (UTC+8)", () => {
    clock.current = new Date("2025-06-15T15:59:59.999Z");
    issue(SAU, { validFrom: "2024-01-01", validUntil: "2025-06-15" });
    expect(check(SAU)).toBe("VALID");
    clock.advance(1);
    const expired = { result: "EXPIRED", recognized: false, card: { state: "EXPIRED", stateChangedAt: "2025-06-15T16:00:00.000Z" } };
    expect(s.lookup.checkCard(SAU, null, LINEAGE)).toMatchObject(expired);
    expect(s.db.$client.prepare("SELECT state FROM cards").get()).toEqual({ state: "VALID" });
  });
});

describe("events", () => {
  it("logs exactly one event per state change, with strictly increasing sequences and full data", () => {
    issue(V17);
    issue(V17);
    issue(V23, { previousNumber: V17 });
    issue(V23, { issueCount: 1 });
    reportCardLost(s.register, V23, 0);
    revokeCard(s.register, V23, "fraud");
    revokeCard(s.register, V23, "fraud");
    setHolderStatus(s.register, V17, "DECEASED");
    const log = events();
    expect(log.map((e) => `${e.type} ${e.cardNumber}/${e.issueCount}`)).toEqual([
      `CARD_ISSUED ${V17}/0`, `CARD_SUPERSEDED ${V17}/0`, `CARD_ISSUED ${V23}/0`, `CARD_SUPERSEDED ${V23}/0`,
      `CARD_ISSUED ${V23}/1`, `CARD_REPORTED_LOST ${V23}/0`, `CARD_REVOKED ${V23}/1`, `HOLDER_STATUS_CHANGED ${V23}/1`,
    ]);
    log.slice(1).forEach((e, i) => expect(e.sequence).toBeGreaterThan(log[i].sequence));
    expect(new Set(log.map((e) => e.holderId)).size).toBe(1);
    expect(log[5].data).toMatchObject({ cardNumber: V23, issueCount: 0, version: "V2023", state: "REPORTED_LOST", previousState: "SUPERSEDED", holderStatus: "ACTIVE" });
    expect(log[7].data).toMatchObject({ state: "REVOKED", previousState: "REVOKED", holderStatus: "DECEASED", previousHolderStatus: "ACTIVE" });
    expect(log[0].data).toMatchObject({ cardNumber: V17, issueCount: 0, version: "V2017", state: "VALID", previousState: null, holderStatus: "ACTIVE" });
  });
});

describe("privacy", () => {
  it("stores no plaintext names, in any case", () => {
    const names = ["Quixtarvel", "Wolfendrake", "Zebulonius"];
    const chinese = ["龙飞凤舞", "珂玥"];
    issue(SAU, { englishName: `${names[0]}-${names[1]}, ${names[2]}`, chineseName: chinese[0] });
    issue(V17, { englishName: `${names[2]} ${names[0]}`, chineseName: chinese[1] });
    issue(V23, { previousNumber: V17, englishName: `${names[2]} ${names[0]}`, chineseName: `${chinese[1]} ` });
    s.db.$client.pragma("wal_checkpoint(TRUNCATE)");
    const files = [s.file, `${s.file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f));
    expect(files.some((bytes) => bytes.includes(Buffer.from(SAU)))).toBe(true); // the search does see stored text
    for (const bytes of files) {
      for (const word of [...names, ...chinese]) {
        for (const form of [word, word.toUpperCase(), word.toLowerCase()]) {
          expect(bytes.includes(Buffer.from(form, "utf8")), form).toBe(false);
          expect(bytes.includes(Buffer.from(form, "utf16le")), form).toBe(false);
        }
      }
    }
  });
});
