import fs from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import {
  findFreePort,
  findOrStartRedis,
  pingRedis,
  redactUrl,
  RedisUnavailableError,
  type RedisHandle,
} from "../../src/redis/find-redis.ts";
import { judgeRedisSettings, readRedisSettings } from "../../src/redis/redis-requirements.ts";
import { redisUrl } from "../helpers/redis.ts";
import { tempDir } from "../helpers/temp-hub.ts";

async function deadUrl(credentials = ""): Promise<string> {
  return `redis://${credentials}127.0.0.1:${await findFreePort()}`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function serverInfo(url: string): Promise<{ pid: number; port: number; dir: string }> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const info = await client.info("server");
    const field = (name: string): string => info.match(new RegExp(`^${name}:(.*)$`, "m"))![1]!.trim();
    const [, dir] = (await client.config("GET", "dir")) as [string, string];
    return { pid: Number(field("process_id")), port: Number(field("tcp_port")), dir };
  } finally {
    client.disconnect();
  }
}

async function catchError(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("findOrStartRedis", () => {
  const started: RedisHandle[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((handle) => handle.stop()));
  });

  it("uses REDIS_URL when it answers", async () => {
    const handle = await findOrStartRedis({ redisUrl: redisUrl(), dataDir: tempDir(), localUrl: await deadUrl() });
    expect(handle).toMatchObject({ url: redisUrl(), source: "configured" });
    await handle.stop();
    expect(await pingRedis(redisUrl(), 1_000)).toBeNull();
  });

  it("fails fast on an unreachable REDIS_URL, naming it without its password", async () => {
    const url = await deadUrl("hub:s3cret-pw@");
    const begin = Date.now();
    const error = await catchError(findOrStartRedis({ redisUrl: url, dataDir: tempDir() }));
    expect(Date.now() - begin).toBeLessThan(3_500);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(error.message).toContain("REDIS_URL");
    expect(error.message).toContain(redactUrl(url));
    expect(error.message).not.toContain("s3cret-pw");
  });

  it("uses the local server when it answers", async () => {
    const logged: string[] = [];
    const handle = await findOrStartRedis({
      redisUrl: null,
      dataDir: tempDir(),
      localUrl: redisUrl(),
      log: (message) => logged.push(message),
    });
    expect(handle).toMatchObject({ url: redisUrl(), source: "local" });
    expect(logged.join("\n")).toContain("using the server");
  });

  it("starts a redis-server child when nothing answers, and stop() ends it", async () => {
    const dataDir = tempDir();
    const localUrl = await deadUrl();
    const handle = await findOrStartRedis({ redisUrl: null, dataDir, localUrl });
    started.push(handle);
    expect(handle.source).toBe("child");
    expect(handle.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(handle.url).not.toBe(localUrl);
    expect(await pingRedis(handle.url, 1_000)).toBeNull();

    const info = await serverInfo(handle.url);
    expect(info.port).toBe(Number(new URL(handle.url).port));
    expect(fs.realpathSync(info.dir)).toBe(fs.realpathSync(path.join(dataDir, "redis")));
    expect(isAlive(info.pid)).toBe(true);
    expect(fs.readdirSync(path.join(dataDir, "redis"))).toContain("appendonlydir");
    // It meets what the hub checks for: noeviction, and its queues survive a restart.
    const client = new Redis(handle.url);
    try {
      expect(judgeRedisSettings(await readRedisSettings(client))).toEqual({ eviction: null, persistence: null, config: null });
    } finally {
      client.disconnect();
    }

    await handle.stop();
    expect(isAlive(info.pid)).toBe(false);
    expect(await pingRedis(handle.url, 500)).not.toBeNull();
    await handle.stop();
  });

  it("says how to get Redis when redis-server is missing", async () => {
    const error = await catchError(
      findOrStartRedis({
        redisUrl: null,
        dataDir: tempDir(),
        localUrl: await deadUrl(),
        redisServerBinary: "/nonexistent/redis-server",
      }),
    );
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(error.message).toContain("apt-get install redis-server");
    expect(error.message).toContain("REDIS_URL");
  });
});

describe("redactUrl", () => {
  it("hides passwords in the user part and the query", () => {
    expect(redactUrl("redis://user:pw@127.0.0.1:6380/2")).toBe("redis://user:***@127.0.0.1:6380/2");
    expect(redactUrl("redis://:pw@127.0.0.1:6380")).not.toContain("pw");
    expect(redactUrl("redis://127.0.0.1:6380?password=pw")).not.toContain("pw");
  });
});
