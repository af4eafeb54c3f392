/**
 * The verification miss ledger on a real Redis (two connections stand for two api processes):
 * reservations are atomic across subjects and connections, a refund only reaches the window it was
 * taken from, and a per-process ledger with the same rule stands in while Redis is unreachable.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { producerConnection } from "../../jobs/queues.ts";
import { MissLedger, type MissRule } from "../../src/partners/miss-ledger.ts";
import { MemoryMissLedger } from "../../src/partners/miss-ledger-memory.ts";
import { redisUrl, uniquePrefix } from "../helpers/redis.ts";

const RULE: MissRule = { slowAfter: 9, slowMs: 60_000, blockAfter: 10, blockMs: 60_000 };

/** Reserves `count` times at once; how many were admitted. */
async function admitted(ledgers: MissLedger[], subjects: string[], count: number): Promise<number> {
  const answers = await Promise.all(Array.from({ length: count }, (_, i) => ledgers[i % ledgers.length].reserve(subjects)));
  return answers.filter((a) => a.ok).length;
}

describe("MissLedger over a real Redis", () => {
  let a: Redis;
  let b: Redis;
  beforeAll(async () => {
    a = producerConnection(redisUrl());
    b = producerConnection(redisUrl());
    await Promise.all([a, b].map((c) => new Promise((resolve) => c.once("ready", resolve))));
  });
  afterAll(async () => {
    await a?.quit();
    await b?.quit();
  });

  it("admits exactly blockAfter of 30 concurrent reservations from two processes, then refuses as BLOCKED", async () => {
    const prefix = uniquePrefix();
    const ledgers = [new MissLedger(a, prefix, RULE), new MissLedger(b, prefix, RULE)];
    expect(await admitted(ledgers, ["key:k1:n", "partner:p:n"], 30)).toBe(RULE.blockAfter);
    const refused = await ledgers[0].reserve(["key:k2:n", "partner:p:n"]);
    expect(refused).toMatchObject({ ok: false, reason: "BLOCKED", subject: 1 });
    expect(refused.ok ? 0 : refused.retryMs).toBeGreaterThan(50_000);
  });

  it("reserves on every subject or on none: a refusal leaves the other subjects' counts as they were", async () => {
    const ledger = new MissLedger(a, uniquePrefix(), RULE);
    expect(await admitted([ledger], ["group:n"], RULE.blockAfter)).toBe(RULE.blockAfter);
    for (let i = 0; i < 5; i += 1) expect((await ledger.reserve(["key:fresh:n", "group:n"])).ok).toBe(false);
    expect(await admitted([ledger], ["key:fresh:n"], RULE.blockAfter + 5)).toBe(RULE.blockAfter);
  });

  it("gives a refunded reservation back, but never to a window created after it expired", async () => {
    const short: MissRule = { slowAfter: 2, slowMs: 10, blockAfter: 3, blockMs: 300 };
    const ledger = new MissLedger(a, uniquePrefix(), short);
    const first = await ledger.reserve(["s"]);
    if (!first.ok) throw new Error("first reservation refused");
    await ledger.refund(first.reservation);
    expect(await admitted([ledger], ["s"], 5)).toBe(3); // the refund made room for one more

    const stale = await ledger.reserve(["t"]);
    if (!stale.ok) throw new Error("reservation refused");
    await sleep(400); // the window of `stale` ends; a new one starts below
    expect((await ledger.reserve(["t"])).ok).toBe(true);
    await ledger.refund(stale.reservation); // belongs to the old window: changes nothing
    await ledger.refund(stale.reservation);
    expect(await admitted([ledger], ["t"], 5)).toBe(2);
  });

  it("slows after slowAfter: one reservation per slowMs, a refused one counts nothing", async () => {
    const rule: MissRule = { slowAfter: 2, slowMs: 300, blockAfter: 5, blockMs: 60_000 };
    const ledger = new MissLedger(a, uniquePrefix(), rule);
    expect(await admitted([ledger], ["s"], 2)).toBe(2);
    const burst = await Promise.all([1, 2, 3].map(() => ledger.reserve(["s"])));
    expect(burst.map((r) => (r.ok ? "ok" : r.reason)).sort()).toEqual(["SLOW", "SLOW", "ok"]);
    await sleep(350);
    expect(await admitted([ledger], ["s"], 1)).toBe(1);
    await sleep(350);
    expect(await admitted([ledger], ["s"], 1)).toBe(1);
    await sleep(350);
    expect(await ledger.reserve(["s"])).toMatchObject({ ok: false, reason: "BLOCKED" });
  });

  it("counts in the process while Redis is unreachable, with the same rule", async () => {
    const down = producerConnection("redis://127.0.0.1:1");
    down.on("error", () => undefined);
    try {
      const ledger = new MissLedger(down, uniquePrefix(), RULE);
      const started = Date.now();
      expect(await admitted([ledger], ["key:k:n", "partner:p:n"], 30)).toBe(RULE.blockAfter);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await ledger.reserve(["key:k2:n", "partner:p:n"])).toMatchObject({ ok: false, reason: "BLOCKED", subject: 1 });
      const other = await ledger.reserve(["key:k3:m"]);
      expect(other.ok && other.reservation.store).toBe("memory");
    } finally {
      down.disconnect();
    }
  });
});

describe("MemoryMissLedger (the stand-in) applies the same rule", () => {
  it("slows, blocks, expires, and refunds only into the window a reservation came from", () => {
    let now = 1_000_000;
    const rule: MissRule = { slowAfter: 2, slowMs: 100, blockAfter: 4, blockMs: 1_000 };
    const ledger = new MemoryMissLedger(() => now);
    const reserve = () => ledger.reserve(["c"], ["s"], rule, `t${now}`);
    expect([reserve(), reserve(), reserve()].map((r) => r.ok)).toEqual([true, true, true]);
    expect(reserve()).toMatchObject({ ok: false, reason: "SLOW", retryMs: 100 });
    now += 100;
    const fourth = reserve();
    expect(fourth.ok).toBe(true);
    now += 100;
    expect(reserve()).toMatchObject({ ok: false, reason: "BLOCKED", retryMs: 1_000 - 100 });
    if (fourth.ok) ledger.refund(["c"], fourth.gens);
    expect(reserve().ok).toBe(true); // the refunded slot
    now += 1_000;
    const fresh = reserve();
    expect(fresh.ok).toBe(true);
    if (fourth.ok) ledger.refund(["c"], fourth.gens); // old window: changes nothing
    expect([reserve().ok, reserve().ok]).toEqual([true, true]); // the 2nd free one, then one past slowAfter
    expect(reserve()).toMatchObject({ ok: false, reason: "SLOW" });
  });
});
