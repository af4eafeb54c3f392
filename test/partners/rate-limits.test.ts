/**
 * Per-key limits on checks and verifications, and the NO_MATCH guard, counted in Redis: within one
 * api process, and across two api processes (one in this test, one a child `fpr-hub api`) that
 * share one SQLite file and one Redis.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrl } from "../helpers/redis.ts";
import { TEST_SECRET, TestHub, type GraphQLAnswer } from "../helpers/temp-hub.ts";
import { issue, v2023 } from "../helpers/webhook-fixtures.ts";

const CHECK = "query($n: String!) { checkCard(number: $n) { result } }";
const CHECKS = "query($n: [String!]!) { checkCards(numbers: $n) { result } }";
const VERIFY = "query($n: String!, $e: String) { verifyHolder(input: { number: $n, englishName: $e }) { result auditId } }";

function codeOf(answer: GraphQLAnswer): string | undefined {
  return answer.errors?.[0]?.extensions.code;
}

function retryAfterMs(answer: GraphQLAnswer): number {
  return answer.errors?.[0]?.extensions.retryAfterMs as number;
}

/** "ok" for an answer without errors, else its code. */
function outcome(answer: GraphQLAnswer): string {
  return answer.errors ? String(codeOf(answer)) : "ok";
}

async function gqlAt(url: string, secret: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await response.json()) as Pick<GraphQLAnswer, "data" | "errors">;
  return { status: response.status, ...body, headers: response.headers };
}

describe("per-key limits in one api", () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ RATE_LIMIT_CHECKS: "PARTNER=5" });
  });
  afterAll(async () => {
    await hub?.close();
  });

  it("allows 5 checks a minute per PARTNER key and refuses the 6th with RATE_LIMITED and retryAfterMs", async () => {
    const key = hub.partnerKey().secret;
    for (let i = 0; i < 5; i += 1) {
      const answer = await hub.gql(key, CHECK, { n: v2023(i) });
      expect(answer.errors, `check ${i + 1}`).toBeUndefined();
      expect(answer.data.checkCard.result).toBe("NOT_FOUND");
    }
    const refused = await hub.gql(key, CHECK, { n: v2023(5) });
    expect(refused.status).toBeLessThan(500);
    expect(codeOf(refused)).toBe("RATE_LIMITED");
    expect(refused.data ?? null).toBeNull();
    expect(retryAfterMs(refused)).toBeGreaterThan(0);
    expect(retryAfterMs(refused)).toBeLessThanOrEqual(60_000);
    expect(refused.errors?.[0].message).toMatch(/rate limit for card checks/);
    // Batches are refused too, and parsing (not a check) is not limited.
    expect(codeOf(await hub.gql(key, CHECKS, { n: [v2023(6)] }))).toBe("RATE_LIMITED");
    expect((await hub.gql(key, "{ parseCardNumber(number: \"x\") { valid } }")).errors).toBeUndefined();
  });

  it("counts a checkCards of 3 numbers as 3 checks", async () => {
    const key = hub.partnerKey().secret;
    expect((await hub.gql(key, CHECKS, { n: [v2023(1), v2023(2), v2023(3)] })).errors).toBeUndefined();
    expect((await hub.gql(key, CHECK, { n: v2023(4) })).errors).toBeUndefined();
    expect((await hub.gql(key, CHECK, { n: v2023(5) })).errors).toBeUndefined();
    expect(codeOf(await hub.gql(key, CHECK, { n: v2023(6) }))).toBe("RATE_LIMITED");

    const other = hub.partnerKey().secret;
    expect((await hub.gql(other, CHECKS, { n: [v2023(1), v2023(2), v2023(3)] })).errors).toBeUndefined();
    // 3 + 3 > 5: the second batch is refused as a whole.
    const batch = await hub.gql(other, CHECKS, { n: [v2023(1), v2023(2), v2023(3)] });
    expect(codeOf(batch)).toBe("RATE_LIMITED");
    expect(batch.data ?? null).toBeNull();
  });

  it("counts per key: another key of the same partner role is unaffected", async () => {
    const spent = hub.partnerKey().secret;
    for (let i = 0; i < 5; i += 1) expect((await hub.gql(spent, CHECK, { n: v2023(i) })).errors).toBeUndefined();
    expect(codeOf(await hub.gql(spent, CHECK, { n: v2023(9) }))).toBe("RATE_LIMITED");

    const fresh = hub.partnerKey().secret;
    for (let i = 0; i < 5; i += 1) expect((await hub.gql(fresh, CHECK, { n: v2023(i) })).errors).toBeUndefined();
    // Other roles keep their own (default) limits.
    const issuer = hub.key("ISSUER");
    for (let i = 0; i < 10; i += 1) expect((await hub.gql(issuer, CHECK, { n: v2023(i) })).errors).toBeUndefined();
    expect(codeOf(await hub.gql(spent, CHECK, { n: v2023(9) }))).toBe("RATE_LIMITED");
  });
});

describe("limits shared by two api processes over one Redis", () => {
  const LIMITS = {
    RATE_LIMIT_CHECKS: "PARTNER=10",
    VERIFY_SLOW_AFTER: "2",
    VERIFY_SLOW_SECONDS: "3",
    VERIFY_BLOCK_AFTER: "4",
    VERIFY_BLOCK_SECONDS: "60",
  };
  let hub: TestHub;
  let child: ChildProcess | null = null;
  let childUrl: string;
  let childOutput = "";
  let hubUrl: string;

  beforeAll(async () => {
    hub = await TestHub.start(LIMITS);
    hubUrl = `${hub.api.url}/graphql`;
    const bin = fileURLToPath(new URL("../../bin/fpr-hub.js", import.meta.url));
    const proc = spawn(process.execPath, [bin, "api"], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      env: {
        ...process.env,
        DATA_DIR: hub.config.dataDir,
        DATABASE_PATH: hub.config.databasePath,
        REDIS_URL: redisUrl(),
        QUEUE_PREFIX: hub.config.queuePrefix,
        HUB_SECRET: TEST_SECRET,
        PORT: "0",
        HOST: "127.0.0.1",
        DEMO_SEED: "off",
        NODE_ENV: "test",
        ...LIMITS,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    childUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child api did not start within 30 s:\n${childOutput}`)), 30_000);
      const onData = (chunk: Buffer) => {
        childOutput += chunk.toString("utf8");
        const match = /GraphQL\s+(http:\/\/\S+)/.exec(childOutput);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      proc.stdout!.on("data", onData);
      proc.stderr!.on("data", (chunk: Buffer) => {
        childOutput += chunk.toString("utf8");
      });
      proc.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`child api exited (${code ?? signal}) before starting:\n${childOutput}`));
      });
      proc.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    expect(childUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
  }, 60_000);

  afterAll(async () => {
    const proc = child;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      proc.kill("SIGTERM");
      const stopped = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!stopped) {
        proc.kill("SIGKILL");
        await Promise.race([exited, sleep(5_000)]);
      }
    }
    await hub?.close();
  });

  it("the child api serves the same register and keys", async () => {
    const key = hub.partnerKey().secret;
    const answer = await gqlAt(childUrl, key, "{ me { id name } }");
    expect(answer.errors).toBeUndefined();
    expect(answer.data.me.name).toBe("Test Hotel");
  });

  it("one partner key gets exactly 10 checks a minute across both processes", async () => {
    const key = hub.partnerKey().secret;
    const calls = Array.from({ length: 12 }, (_, i) => gqlAt(i % 2 === 0 ? hubUrl : childUrl, key, CHECK, { n: v2023(100 + i) }));
    const answers = await Promise.all(calls);
    const outcomes = answers.map(outcome);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(10);
    expect(outcomes.filter((o) => o === "RATE_LIMITED")).toHaveLength(2);
    for (const answer of answers.filter((a) => a.errors)) {
      expect(retryAfterMs(answer)).toBeGreaterThan(0);
      expect(retryAfterMs(answer)).toBeLessThanOrEqual(60_000);
    }
    // Both processes refuse the key now; the shared count is not per process.
    expect(codeOf(await gqlAt(hubUrl, key, CHECK, { n: v2023(1) }))).toBe("RATE_LIMITED");
    expect(codeOf(await gqlAt(childUrl, key, CHECK, { n: v2023(1) }))).toBe("RATE_LIMITED");
    // Another key is unaffected on either process.
    const other = hub.partnerKey().secret;
    expect((await gqlAt(childUrl, other, CHECK, { n: v2023(1) })).errors).toBeUndefined();
    expect((await gqlAt(hubUrl, other, CHECK, { n: v2023(1) })).errors).toBeUndefined();
  });

  it("slows, then blocks, repeated NO_MATCH verifications of one card by one key across both processes", async () => {
    const issuer = hub.key("ISSUER");
    const number = v2023(200);
    await issue(hub, issuer, number, { englishName: "MARTIN, CLAIRE" });
    const key = hub.partnerKey(["CARDS_CHECK", "HOLDERS_VERIFY"]).secret;
    const verify = (url: string, name: string) => gqlAt(url, key, VERIFY, { n: number, e: name });

    // Sanity: the right name matches for another partner's key.
    const otherKey = hub.partnerKey(["CARDS_CHECK", "HOLDERS_VERIFY"]).secret;
    expect((await gqlAt(childUrl, otherKey, VERIFY, { n: number, e: "Claire Martin" })).data?.verifyHolder.result).toBe("MATCH");

    // Two NO_MATCH answers, one on each process.
    expect((await verify(hubUrl, "MARTIN, CLAUDE")).data?.verifyHolder.result).toBe("NO_MATCH");
    expect((await verify(childUrl, "MARTIN, CLAUDE")).data?.verifyHolder.result).toBe("NO_MATCH");

    // The next two at once, one on each process: one proceeds, the other is told to slow down.
    const pair = await Promise.all([verify(hubUrl, "MARTIN, CLAUDIA"), verify(childUrl, "MARTIN, CLAUDIA")]);
    const pairDoneAt = Date.now();
    const outcomes = pair.map((a) => (a.errors ? codeOf(a) : a.data.verifyHolder.result)).sort();
    expect(outcomes).toEqual(["NO_MATCH", "RATE_LIMITED"]);
    const slowed = pair.find((a) => a.errors)!;
    expect(slowed.errors?.[0].message).toMatch(/slow down/);
    const wait = retryAfterMs(slowed);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(3_000);

    // Within the spacing even the right name is refused (without counting as a failure). Only
    // tried while well inside the 3 s window: after it, a MATCH would take the spacing slot.
    if (Date.now() - pairDoneAt < 1_500) {
      const early = await verify(childUrl, "MARTIN, CLAIRE");
      expect(codeOf(early)).toBe("RATE_LIMITED");
    }

    // Once the spacing has passed, one more failure is allowed: the fourth.
    await sleep(Math.min(wait, 3_000) + 250);
    const fourth = await verify(childUrl, "MARTIN, CLAUDINE");
    expect(fourth.errors).toBeUndefined();
    expect(fourth.data.verifyHolder.result).toBe("NO_MATCH");

    // Now the pair is blocked on both processes, whatever the name, for up to VERIFY_BLOCK_SECONDS.
    for (const url of [hubUrl, childUrl]) {
      const blocked = await verify(url, "MARTIN, CLAIRE");
      expect(codeOf(blocked), url).toBe("RATE_LIMITED");
      expect(blocked.errors?.[0].message).toMatch(/too many non-matching verifications/);
      expect(retryAfterMs(blocked)).toBeGreaterThan(3_000);
      expect(retryAfterMs(blocked)).toBeLessThanOrEqual(60_000);
    }

    // A different key verifying the same card is not affected, on either process.
    expect((await gqlAt(hubUrl, otherKey, VERIFY, { n: number, e: "MARTIN, CLAIRE" })).data?.verifyHolder.result).toBe("MATCH");
    expect((await gqlAt(childUrl, otherKey, VERIFY, { n: number, e: "claire martin" })).data?.verifyHolder.result).toBe("MATCH");
    // And the blocked key may still verify other cards.
    const another = v2023(201);
    await issue(hub, issuer, another, { englishName: "MARTIN, CLAIRE" });
    expect((await verify(childUrl, "MARTIN, CLAIRE")).errors).toBeDefined();
    expect((await gqlAt(childUrl, key, VERIFY, { n: another, e: "MARTIN, CLAIRE" })).data?.verifyHolder.result).toBe("MATCH");
  });
});
