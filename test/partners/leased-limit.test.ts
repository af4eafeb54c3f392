/**
 * The shared per-window limit leased in slices: never more than the limit across processes (two
 * instances on one real Redis stand for two api processes), few Redis round trips, exact for small
 * limits, a fresh window after expiry, and a local stand-in while Redis is unreachable.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeasedLimit, LimitReached } from "../../src/partners/leased-limit.ts";
import { producerConnection } from "../../jobs/queues.ts";
import { redisUrl, uniquePrefix } from "../helpers/redis.ts";

/** Spends one point at a time until refused; how many were admitted. */
async function spendAll(limit: LeasedLimit, key: string, tries: number): Promise<number> {
  let admitted = 0;
  for (let i = 0; i < tries; i += 1) {
    try {
      await limit.consume(key, 1);
      admitted += 1;
    } catch (error) {
      expect(error).toBeInstanceOf(LimitReached);
    }
  }
  return admitted;
}

describe("LeasedLimit over a real Redis", () => {
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

  it("spends a 10,000 limit from two processes without ever exceeding it, refusing at most one slice early each", async () => {
    const prefix = uniquePrefix();
    const first = new LeasedLimit(a, prefix, 10_000, 60_000);
    const second = new LeasedLimit(b, prefix, 10_000, 60_000);
    const [x, y] = await Promise.all([spendAll(first, "key1", 6_000), spendAll(second, "key1", 6_000)]);
    expect(x + y).toBeLessThanOrEqual(10_000);
    // Slices are 1 % (100 points): each process may hold back at most one unspent slice.
    expect(x + y).toBeGreaterThanOrEqual(10_000 - 2 * 100);
    expect(Number(await a.get(`${prefix}:key1`))).toBe(10_000);
    // Both refuse from now on, with the time left in the window.
    for (const limit of [first, second]) {
      const refused = await Promise.resolve(limit.consume("key1", 1)).then(() => null, (error: unknown) => error);
      expect(refused).toBeInstanceOf(LimitReached);
      expect((refused as LimitReached).msBeforeNext).toBeGreaterThan(50_000);
      expect((refused as LimitReached).msBeforeNext).toBeLessThanOrEqual(60_000);
    }
  });

  it("answers most calls without Redis: 500 checks lease 5 slices", async () => {
    const prefix = uniquePrefix();
    const limit = new LeasedLimit(a, prefix, 10_000, 60_000);
    let synchronous = 0;
    for (let i = 0; i < 500; i += 1) {
      const pending = limit.consume("key", 1);
      if (pending === undefined) synchronous += 1;
      else await pending;
    }
    expect(synchronous).toBe(495);
    expect(Number(await a.get(`${prefix}:key`))).toBe(500);
  });

  it("is exact for small limits, even with concurrent calls from two processes", async () => {
    const prefix = uniquePrefix();
    const first = new LeasedLimit(a, prefix, 10, 60_000);
    const second = new LeasedLimit(b, prefix, 10, 60_000);
    const calls = Array.from({ length: 14 }, (_, i) => Promise.resolve((i % 2 ? first : second).consume("k", 1)).then(() => "ok", () => "refused"));
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(10);
  });

  it("refuses a call larger than what is left as a whole, and one larger than the limit always", async () => {
    const prefix = uniquePrefix();
    const limit = new LeasedLimit(a, prefix, 1_000, 60_000);
    await limit.consume("k", 700);
    await expect(Promise.resolve(limit.consume("k", 400))).rejects.toBeInstanceOf(LimitReached);
    await limit.consume("k", 300);
    const other = await Promise.resolve(limit.consume("other", 1_001)).catch((error: unknown) => error);
    expect(other).toBeInstanceOf(LimitReached);
    expect((other as LimitReached).msBeforeNext).toBe(60_000);
  });

  it("starts a fresh window when the old one ends", async () => {
    const prefix = uniquePrefix();
    const limit = new LeasedLimit(a, prefix, 3, 400);
    expect(await spendAll(limit, "k", 5)).toBe(3);
    await sleep(450);
    expect(await spendAll(limit, "k", 5)).toBe(3);
  });

  it("limits locally with the same size while Redis is unreachable", async () => {
    const dead = new Redis("redis://127.0.0.1:1", { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    dead.on("error", () => undefined);
    const limit = new LeasedLimit(dead, uniquePrefix(), 5, 60_000);
    expect(await spendAll(limit, "k", 8)).toBe(5);
    dead.disconnect();
  });
});
