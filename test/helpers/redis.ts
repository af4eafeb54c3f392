import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** The Redis every test shares (`REDIS_URL`, or a private redis-server started by test/global-setup.ts). */
    redisUrl: string;
    /** This run's mark, the start of every prefix `uniquePrefix()` hands out (test/global-setup.ts checks none is left). */
    testRun: string;
  }
}

/** URL of the test Redis; give each test its own BullMQ prefix with `uniquePrefix()`. */
export function redisUrl(): string {
  return inject("redisUrl");
}

/** Prefixes handed out in this test file; test/setup.ts removes their keys once the file is done. */
const madePrefixes: string[] = [];

/**
 * A BullMQ queue prefix no other test uses, so tests sharing one Redis never see each other's jobs.
 * Its keys in the test Redis are removed when the test file ends.
 */
export function uniquePrefix(): string {
  const prefix = `${inject("testRun")}${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
  madePrefixes.push(prefix);
  return prefix;
}

/** Deletes every key whose name starts with one of `prefixes` (SCAN, then UNLINK), on the test Redis only. */
export async function deleteKeysByPrefix(url: string, prefixes: readonly string[]): Promise<number> {
  if (prefixes.length === 0) return 0;
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
  client.on("error", () => undefined);
  let deleted = 0;
  try {
    for (const prefix of prefixes) {
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) deleted += await client.unlink(...keys);
      } while (cursor !== "0");
    }
  } finally {
    client.disconnect();
  }
  return deleted;
}

/** Removes the keys of every prefix this file handed out (after its own hooks closed its hubs). */
export async function removePrefixedKeys(): Promise<void> {
  const prefixes = madePrefixes.splice(0);
  await deleteKeysByPrefix(redisUrl(), prefixes);
}
