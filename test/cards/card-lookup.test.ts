import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { issueCard, type IssueCardData } from "../../src/cards/card-issuing.ts";
import { makeV2023Number } from "../../src/card-numbers/card-number-generator.ts";
import { reportCardLost, revokeCard, setHolderStatus } from "../../src/cards/card-register.ts";
import type { CheckResult } from "../../src/cards/card-state.ts";
import { HubError } from "../../src/errors.ts";
import { tempServices, TestClock } from "../helpers/temp-hub.ts";

const OLD = "CAN110081080319"; // switched to NEW
const NEW = "911124198108030024";
const LOST = "932682198501010017"; // issue 0 lost, issue 1 valid
const EXPIRED = "JPN310075031210";
const v2023 = (sequence: number, nationalityNumeric = "410") =>
  makeV2023Number({ provinceCode: "44", nationalityNumeric, birthDate: "1990-07-15", sequence });
const REVOKED = v2023(21);
const INACTIVE = v2023(22);
const UNKNOWN = v2023(23);
const MALFORMED = "932682198501010018"; // bad check character
const NO_LINEAGE = { canReadLineage: false };
const LINEAGE = { canReadLineage: true };

let s: ReturnType<typeof tempServices>;
let cardRows: unknown[];

function issue(number: string, extra: Partial<IssueCardData> = {}) {
  const old = number.length === 15;
  const validity = old ? { validFrom: "2016-05-10", validUntil: "2026-05-09" } : { validFrom: "2024-03-01", validUntil: "2034-02-28" };
  return issueCard(s.register, { number, ...validity, englishName: "TEST, HOLDER", ...extra });
}

beforeEach(() => {
  s = tempServices(new TestClock());
  issue(OLD);
  issue(NEW, { previousNumber: OLD });
  issue(LOST);
  reportCardLost(s.register, LOST, 0);
  issue(LOST, { issueCount: 1 });
  issue(EXPIRED, { validFrom: "2013-01-10", validUntil: "2023-01-09" });
  issue(REVOKED);
  revokeCard(s.register, REVOKED, "permanent residence revoked");
  issue(INACTIVE);
  setHolderStatus(s.register, INACTIVE, "DECEASED");
  cardRows = s.db.$client.prepare("SELECT * FROM cards ORDER BY rowid").all();
});
afterEach(() => {
  // Reads never write to the register.
  expect(s.db.$client.prepare("SELECT * FROM cards ORDER BY rowid").all()).toEqual(cardRows);
  s.db.$client.close();
  fs.rmSync(path.dirname(s.file), { recursive: true, force: true });
});

function rejects(code: string, call: () => unknown): void {
  expect(call).toThrow(HubError);
  try {
    call();
  } catch (e) {
    expect((e as HubError).code).toBe(code);
  }
}

describe("checkCard", () => {
  it.each<[string, number | undefined, CheckResult]>([
    [NEW, undefined, "VALID"],
    [LOST, undefined, "VALID"],
    [LOST, 1, "VALID"],
    [LOST, 0, "REPORTED_LOST"],
    [EXPIRED, undefined, "EXPIRED"],
    [OLD, undefined, "SUPERSEDED"],
    [REVOKED, undefined, "REVOKED"],
    [INACTIVE, undefined, "HOLDER_INACTIVE"],
    [UNKNOWN, undefined, "NOT_FOUND"],
    [LOST, 2, "NOT_FOUND"],
    [MALFORMED, undefined, "MALFORMED"],
    ["", undefined, "MALFORMED"],
  ])("%s (issue %s) → %s", (number, issueCount, result) => {
    const check = s.lookup.checkCard(number, issueCount, NO_LINEAGE);
    expect(check.result).toBe(result);
    expect(check.recognized).toBe(result === "VALID");
    expect(check.checkedAt).toBe("2025-06-15T04:00:00.000Z");
    if (result === "NOT_FOUND" || result === "MALFORMED") {
      expect(check.card).toBeNull();
    } else {
      const expectedCount = issueCount ?? check.latestIssueCount;
      expect(check).toMatchObject({ number, issueCount: expectedCount, card: { number, issueCount: expectedCount } });
      expect(check.card!.state).toBe(result === "HOLDER_INACTIVE" ? "VALID" : result);
    }
    if (result === "MALFORMED") expect(check.parse.errors.length).toBeGreaterThan(0);
    else expect(check.parse.valid).toBe(true);
  });

  it("reports the instance asked about and the latest issue count", () => {
    expect(s.lookup.checkCard(LOST, 0, NO_LINEAGE)).toMatchObject({ issueCount: 0, latestIssueCount: 1, card: { state: "REPORTED_LOST" } });
    expect(s.lookup.checkCard(LOST, 5, NO_LINEAGE)).toMatchObject({ result: "NOT_FOUND", issueCount: 5, latestIssueCount: 1, card: null });
    expect(s.lookup.checkCard(UNKNOWN, null, NO_LINEAGE)).toMatchObject({ number: UNKNOWN, issueCount: null, latestIssueCount: null });
    expect(s.lookup.checkCard(INACTIVE, null, NO_LINEAGE).card).toMatchObject({ holderStatus: "DECEASED" });
  });

  it("normalizes spaces, hyphens, lower case and full-width digits", () => {
    const fullWidth = NEW.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));
    for (const input of [`${NEW.slice(0, 6)} ${NEW.slice(6, 14)}-${NEW.slice(14)}`, fullWidth, " can110081080319 "]) {
      const check = s.lookup.checkCard(input, null, NO_LINEAGE);
      expect(check.input).toBe(input);
      expect([NEW, OLD]).toContain(check.number);
      expect(check.result).toBe(check.number === NEW ? "VALID" : "SUPERSEDED");
    }
  });

  it.each([-1, 100, 0.5])("rejects issueCount %s as BAD_USER_INPUT", (issueCount) => {
    rejects("BAD_USER_INPUT", () => s.lookup.checkCard(NEW, issueCount, NO_LINEAGE));
  });

  it("shows lineage only to viewers that may read it", () => {
    expect(s.lookup.checkCard(OLD, null, NO_LINEAGE).card).toMatchObject({ previousNumber: null, currentNumber: null });
    expect(s.lookup.checkCard(NEW, null, NO_LINEAGE).card).toMatchObject({ previousNumber: null, currentNumber: null });
    expect(s.lookup.checkCard(OLD, null, LINEAGE).card).toMatchObject({ previousNumber: null, currentNumber: NEW });
    expect(s.lookup.checkCard(NEW, null, LINEAGE).card).toMatchObject({ previousNumber: OLD, currentNumber: null });
    expect(s.lookup.checkCard(LOST, 0, LINEAGE).card).toMatchObject({ previousNumber: null, currentNumber: null });
  });
});

describe("checkCards", () => {
  it("answers each item in input order, duplicates and malformed items included", () => {
    const inputs = [INACTIVE, MALFORMED, NEW, "", OLD, UNKNOWN, NEW.toLowerCase(), `${NEW.slice(0, 9)} ${NEW.slice(9)}`, "E12345678", LOST, EXPIRED, REVOKED, NEW];
    const checks = s.lookup.checkCards(inputs, NO_LINEAGE);
    expect(checks.map((c) => c.input)).toEqual(inputs);
    expect(checks.map((c) => c.result)).toEqual([
      "HOLDER_INACTIVE", "MALFORMED", "VALID", "MALFORMED", "SUPERSEDED", "NOT_FOUND", "VALID",
      "VALID", "MALFORMED", "VALID", "EXPIRED", "REVOKED", "VALID",
    ]);
    // Each answer is the single check's answer.
    inputs.forEach((input, i) => expect(checks[i]).toEqual(s.lookup.checkCard(input, null, NO_LINEAGE)));
    expect(checks[9]).toMatchObject({ issueCount: 1, latestIssueCount: 1 });
  });

  it("respects the viewer's lineage permission", () => {
    const [without] = s.lookup.checkCards([OLD], NO_LINEAGE);
    const [withLineage] = s.lookup.checkCards([OLD], LINEAGE);
    expect(without.card).toMatchObject({ previousNumber: null, currentNumber: null });
    expect(withLineage.card).toMatchObject({ currentNumber: NEW });
  });

  it("takes up to 1,000 numbers and refuses 1,001", () => {
    expect(s.lookup.checkCards([], NO_LINEAGE)).toEqual([]);
    const many = Array.from({ length: 1000 }, (_, i) => v2023(i));
    const checks = s.lookup.checkCards(many, NO_LINEAGE);
    expect(checks).toHaveLength(1000);
    expect(checks.map((c) => c.number)).toEqual(many);
    const byResult = (r: CheckResult) => checks.filter((c) => c.result === r).map((c) => c.number);
    expect(byResult("REVOKED")).toEqual([REVOKED]);
    expect(byResult("HOLDER_INACTIVE")).toEqual([INACTIVE]);
    expect(byResult("NOT_FOUND")).toHaveLength(998);
    const error = (() => {
      try {
        s.lookup.checkCards([...many, NEW], NO_LINEAGE);
      } catch (e) {
        return e as HubError;
      }
    })();
    expect(error).toBeInstanceOf(HubError);
    expect(error).toMatchObject({ code: "BAD_USER_INPUT", extensions: { field: "numbers" } });
  });
});
