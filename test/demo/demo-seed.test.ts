import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseCardNumber } from "../../src/card-numbers/card-number.ts";
import type { CheckResult } from "../../src/cards/card-state.ts";
import { syntheticRegister, type RegisterOperation } from "../../src/demo/synthetic-register.ts";
import { applyOperation, DEMO_SEED, isRegisterEmpty, readDemoKeys, seedDemo, SHOWCASE } from "../../src/demo/demo-seed.ts";
import { tempDir, tempServices, TestClock } from "../helpers/temp-hub.ts";

const opened: { s: ReturnType<typeof tempServices>; dir: string }[] = [];
afterEach(() => {
  for (const { s, dir } of opened.splice(0)) {
    s.db.$client.close();
    fs.rmSync(path.dirname(s.file), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function seeded(holders = 200) {
  const s = tempServices(new TestClock());
  const dir = tempDir();
  opened.push({ s, dir });
  expect(isRegisterEmpty(s)).toBe(true);
  const keys = seedDemo(s, dir, holders);
  return { s, dir, keys };
}

type CardRow = { number: string; issueCount: number; version: string };
const cardRows = (s: ReturnType<typeof tempServices>) =>
  s.db.$client.prepare("SELECT number, issue_count AS issueCount, version FROM cards ORDER BY number, issue_count").all() as CardRow[];

const ops = (seed: number, holders = 150, asOf = "2025-06-15") => [...syntheticRegister({ holders, seed, asOf })];
const numberOf = (op: RegisterOperation) => (op.kind === "issue" ? op.input.number : op.number);

describe("seedDemo", () => {
  it("seeds both versions and every card state and check result", () => {
    const { s } = seeded();
    expect(isRegisterEmpty(s)).toBe(false);
    const rows = cardRows(s);
    expect(new Set(rows.map((r) => r.version))).toEqual(new Set(["V2017", "V2023"]));
    const holderCount = (s.db.$client.prepare("SELECT count(*) AS n FROM holders").get() as { n: number }).n;
    expect(holderCount).toBe(200 + 5); // the synthetic holders plus the five showcase holders
    const results = new Map<CheckResult, number>();
    const states = new Set<string>();
    for (const row of rows) {
      const check = s.lookup.checkCard(row.number, row.issueCount, { canReadLineage: true });
      results.set(check.result, (results.get(check.result) ?? 0) + 1);
      states.add(check.card!.state);
      expect(parseCardNumber(row.number, new Date()).valid).toBe(true);
    }
    expect([...results.keys()].sort()).toEqual(["EXPIRED", "HOLDER_INACTIVE", "REPORTED_LOST", "REVOKED", "SUPERSEDED", "VALID"]);
    expect([...states].sort()).toEqual(["EXPIRED", "REPORTED_LOST", "REVOKED", "SUPERSEDED", "VALID"]);
    expect(results.get("VALID")!).toBeGreaterThan(rows.length / 2);
    // Every card's events are in the log: at least one CARD_ISSUED per instance.
    const issued = (s.db.$client.prepare("SELECT count(*) AS n FROM events WHERE type = 'CARD_ISSUED'").get() as { n: number }).n;
    expect(issued).toBe(rows.length);
  });

  it("includes the showcase cards the README's tour uses", () => {
    const { s } = seeded(20);
    const check = (n: string, i?: number) => s.lookup.checkCard(n, i, { canReadLineage: true });
    expect(check("CAN110081080319")).toMatchObject({ result: "SUPERSEDED", card: { currentNumber: "911124198108030024" } });
    expect(check("911124198108030024")).toMatchObject({ result: "VALID", card: { previousNumber: "CAN110081080319" } });
    expect(check("932682198501010017", 0).result).toBe("REPORTED_LOST");
    expect(check("932682198501010017", 1).result).toBe("VALID");
    expect(check("931410199007150218").result).toBe("REVOKED");
    expect(check("944840196211030070").result).toBe("HOLDER_INACTIVE");
    expect(check("JPN310075031210").result).toBe("EXPIRED");
  });

  it("writes demo keys that authenticate with their roles", () => {
    const { s, dir, keys } = seeded(10);
    expect(readDemoKeys(dir)).toEqual(keys);
    for (const role of ["ADMIN", "ISSUER", "VIEWER", "PARTNER"] as const) {
      expect(s.apiKeys.authenticate(keys[role])).toMatchObject({ role, partnerId: role === "PARTNER" ? keys.partnerId : null });
    }
    expect(s.partners.list().length).toBeGreaterThanOrEqual(8);
  });

  it("gives the same register for the same seed in two fresh databases", () => {
    const a = seeded();
    const b = seeded();
    const full = (s: ReturnType<typeof tempServices>) => s.db.$client.prepare("SELECT * FROM cards ORDER BY number, issue_count").all();
    expect(cardRows(a.s).length).toBeGreaterThan(200);
    expect(full(a.s)).toEqual(full(b.s));
    const log = (s: ReturnType<typeof tempServices>) => s.db.$client.prepare("SELECT sequence, type, card_number, issue_count, data FROM events ORDER BY sequence").all();
    expect(log(a.s)).toEqual(log(b.s));
  });
});

describe("syntheticRegister", () => {
  it("is deterministic for a seed and differs between seeds", () => {
    expect(ops(DEMO_SEED)).toEqual(ops(DEMO_SEED));
    expect(ops(7)).toEqual(ops(7));
    expect(ops(7).map(numberOf)).not.toEqual(ops(8).map(numberOf));
    // A prefix of holders is the prefix of a longer run.
    const short = ops(7, 20);
    expect(ops(7, 150).slice(0, short.length)).toEqual(short);
  });

  it("keeps reserved numbers free and starts no card after asOf", () => {
    const all = ops(11, 300, "2025-01-31");
    const reserved = all.filter((op) => op.kind === "issue").slice(0, 5).map(numberOf);
    const again = [...syntheticRegister({ holders: 300, seed: 11, asOf: "2025-01-31", reserved })];
    for (const op of again) if (op.kind === "issue" && op.input.issueCount === undefined && !op.input.previousNumber) expect(reserved).not.toContain(op.input.number);
    for (const op of all) if (op.kind === "issue") expect(op.input.validFrom <= "2025-01-31").toBe(true);
    expect(all.filter((op) => op.kind === "issue" && !op.input.previousNumber && !op.input.issueCount)).toHaveLength(300);
  });

  it("applies cleanly to an empty register through the service code", () => {
    const s = tempServices(new TestClock());
    opened.push({ s, dir: tempDir() });
    const list = ops(99, 120);
    for (const op of [...SHOWCASE, ...list]) applyOperation(s, op);
    const kinds = new Set(list.map((op) => op.kind));
    expect(kinds.has("issue")).toBe(true);
    const cards = (s.db.$client.prepare("SELECT count(*) AS n FROM cards").get() as { n: number }).n;
    expect(cards).toBe([...SHOWCASE, ...list].filter((op) => op.kind === "issue").length);
  });
});
