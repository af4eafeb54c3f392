import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { findFreePort, findOrStartRedis } from "../src/redis/find-redis.ts";
import type {} from "./helpers/redis.ts";

/**
 * One Redis for the whole run: `REDIS_URL` when set, otherwise a private redis-server on a free
 * port (never someone's server on 6379), stopped and removed at teardown. A `REDIS_URL` should
 * meet what the hub checks (noeviction, some persistence), or /readyz answers with warnings.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fpr-hub-test-redis-"));
  const redis = await findOrStartRedis({
    redisUrl: process.env.REDIS_URL?.trim() || null,
    dataDir,
    localUrl: `redis://127.0.0.1:${await findFreePort()}`,
    // As the hub's own child does: an append-only file, so the hubs under test see a Redis that
    // meets their requirements (src/redis/redis-requirements.ts) and /readyz has nothing to warn of.
    persist: true,
  }).catch((error: unknown) => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  project.provide("redisUrl", redis.url);
  return async () => {
    await redis.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
