import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import type { TestProject } from "vitest/node";
import { findFreePort, findOrStartRedis, type RedisHandle } from "../src/redis/find-redis.ts";
import { deleteKeysByPrefix } from "./helpers/redis.ts";
import { openRunPostgres, shareRunFolder, type RunPostgres } from "./global-postgres.ts";

/**
 * One Redis for the whole run: `REDIS_URL` when set, otherwise a private redis-server on a free
 * port (never someone's server on 6379), stopped and removed at teardown. A `REDIS_URL` should
 * meet what the hub checks (noeviction, some persistence), or /readyz answers with warnings.
 * One PostgreSQL too: `TEST_POSTGRES_URL`, or a private cluster (test/global-postgres.ts).
 *
 * The run checks that its tests leave nothing behind (the teardown fails the run otherwise):
 * - Redis keys: every prefix `uniquePrefix()` hands out starts with this run's mark; keys under it
 *   still present at the end are reported (and then deleted, so a shared REDIS_URL stays clean);
 * - files: the test processes and their children get their own temp folder (TMPDIR); whatever is
 *   left in it at the end is reported (tsx's compile cache aside), and the folder removed;
 * - processes: a redis-server or postgres still running on files in that folder (a test's
 *   PrivateRedis or PrivatePostgres, or a child hub's own Redis orphaned by a kill) is reported and stopped;
 * - PostgreSQL databases: every one `createTestDatabase()` makes is named with this run's mark;
 *   any still there at the end is reported and dropped.
 */

/** Left in the run's temp folder on purpose: tsx's compile cache of the child processes. */
const EXPECTED_LEFTOVERS = /^tsx-\d+$/;

async function countKeys(url: string, pattern: string): Promise<Map<string, number>> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on("error", () => undefined);
  const byPrefix = new Map<string, number>();
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      for (const key of keys) byPrefix.set(key.split(":")[0], (byPrefix.get(key.split(":")[0]) ?? 0) + 1);
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
  return byPrefix;
}

/** The servers a test may start on files in the run's temp folder. */
const SERVER_NAMES = new Set(["redis-server", "postgres"]);

/**
 * Servers still running on files in the run's temp folder (Linux: redis-server works in its --dir,
 * postgres in its data directory; /proc shows the servers of the account root runs postgres as too).
 */
function serversIn(tempRoot: string): { pid: number; name: string }[] {
  if (!fs.existsSync("/proc/self/cwd")) return [];
  const root = fs.realpathSync(tempRoot);
  return fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => {
    try {
      const name = fs.readFileSync(`/proc/${entry}/comm`, "utf8").trim();
      if (!SERVER_NAMES.has(name)) return [];
      const inRun = fs.readlinkSync(`/proc/${entry}/cwd`).replace(/ \(deleted\)$/, "").startsWith(`${root}/`);
      return inRun ? [{ pid: Number(entry), name }] : [];
    } catch {
      return [];
    }
  });
}

/** What the tests left behind, in one message each; empty when nothing. Servers left running are stopped. */
async function leftovers(url: string, run: string, tempRoot: string): Promise<string[]> {
  const found: string[] = [];
  const servers = serversIn(tempRoot);
  if (servers.length > 0) {
    const named = [...SERVER_NAMES].map((name) => [name, servers.filter((s) => s.name === name).map((s) => s.pid)] as const).filter(([, pids]) => pids.length > 0);
    found.push(`${servers.length} server processes still running on the run's files (${named.map(([name, pids]) => `${name}: pids ${pids.join(", ")}`).join("; ")}; now stopped)`);
    for (const { pid } of servers) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone already: a postgres backend ends by itself once its postmaster is killed.
      }
    }
  }
  const keys = await countKeys(url, `${run}*`).catch(() => new Map<string, number>());
  if (keys.size > 0) {
    const total = [...keys.values()].reduce((a, b) => a + b, 0);
    const worst = [...keys.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([prefix, n]) => `${prefix} (${n})`);
    found.push(`${total} Redis keys under ${keys.size} test prefixes, e.g. ${worst.join(", ")}`);
  }
  const files = fs.readdirSync(tempRoot).filter((name) => !EXPECTED_LEFTOVERS.test(name));
  if (files.length > 0) found.push(`${files.length} entries in the run's temp folder: ${files.slice(0, 10).join(", ")}`);
  return found;
}

async function startRedis(dataDir: string): Promise<RedisHandle> {
  return findOrStartRedis({
    redisUrl: process.env.REDIS_URL?.trim() || null,
    dataDir,
    localUrl: `redis://127.0.0.1:${await findFreePort()}`,
    // As the hub's own child does: an append-only file, so the hubs under test see a Redis that
    // meets their requirements (src/redis/redis-requirements.ts) and /readyz has nothing to warn of.
    persist: true,
  });
}

/** Redis and PostgreSQL, started side by side; if either fails, the other is stopped again. */
async function startServers(dataDir: string, run: string): Promise<[RedisHandle, RunPostgres]> {
  const [redis, postgres] = await Promise.allSettled([startRedis(dataDir), openRunPostgres(run)]);
  if (redis.status === "fulfilled" && postgres.status === "fulfilled") return [redis.value, postgres.value];
  if (redis.status === "fulfilled") await redis.value.stop();
  if (postgres.status === "fulfilled") await postgres.value.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  throw redis.status === "rejected" ? redis.reason : (postgres as PromiseRejectedResult).reason;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fpr-hub-test-redis-"));
  const run = `ft${randomBytes(3).toString("hex")}`;
  const [redis, postgres] = await startServers(dataDir, run);
  project.provide("redisUrl", redis.url);
  project.provide("testPostgres", postgres.provided);
  project.provide("testRun", run);
  // Set before the test processes start, which inherit it (and pass it on to their children).
  const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), "fpr-hub-test-run-"));
  shareRunFolder(tempRoot);
  process.env.TMPDIR = tempRoot;
  return async () => {
    const found = await leftovers(redis.url, run, tempRoot);
    found.push(...(await postgres.close()));
    await deleteKeysByPrefix(redis.url, [run]).catch(() => undefined);
    await redis.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    try {
      fs.rmSync(tempRoot, { recursive: true, force: true });
    } catch (error) {
      found.push(`the run's temp folder ${tempRoot} could not be removed (${(error as Error).message}): a mount left behind?`);
    }
    if (found.length > 0) {
      process.stderr.write(`\nThe tests left things behind (each test must remove what it creates):\n${found.map((f) => `  - ${f}`).join("\n")}\n`);
      process.exitCode = 1;
    }
  };
}
