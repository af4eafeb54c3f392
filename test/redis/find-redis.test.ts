import { spawn, type ChildProcess } from "node:child_process";
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
import { ConfigError } from "../../src/config.ts";
import { RedisDirInUseError } from "../../src/redis/redis-child-lock.ts";
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

describe("REDIS_EMBEDDED: where Redis comes from without REDIS_URL", () => {
  const started: RedisHandle[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((handle) => handle.stop()));
  });

  it("off (the production default): REDIS_URL is required, in one line naming both settings", async () => {
    const error = await catchError(findOrStartRedis({ redisUrl: null, embedded: "off", dataDir: tempDir(), localUrl: redisUrl() }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^REDIS_URL is required when NODE_ENV=production .*REDIS_EMBEDDED=1/);
    expect(error.message).not.toContain("\n");
  });

  it("private: the hub's own redis-server, even when a server answers on the local address", async () => {
    const handle = await findOrStartRedis({ redisUrl: null, embedded: "private", dataDir: tempDir(), localUrl: redisUrl() });
    started.push(handle);
    expect(handle.source).toBe("child");
    expect(handle.url).not.toBe(redisUrl());
  });
});

describe("the owner of DATA_DIR/redis (src/redis/redis-child-lock.ts)", () => {
  const started: RedisHandle[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((handle) => handle.stop()));
    for (const child of children.splice(0)) child.kill("SIGKILL");
  });

  /** The pid of a process that has exited (and been reaped): a hub that died. */
  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => child.once("exit", resolve));
    return child.pid!;
  }

  function writeLock(dataDir: string, content: unknown): string {
    const dir = path.join(dataDir, "redis");
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, "owner.json"), JSON.stringify(content));
    return dir;
  }

  it("is written while the child runs, naming this process and the child, and removed by stop()", async () => {
    const dataDir = tempDir();
    const handle = await findOrStartRedis({ redisUrl: null, embedded: "private", dataDir });
    const lock = JSON.parse(fs.readFileSync(path.join(dataDir, "redis", "owner.json"), "utf8"));
    expect(lock).toMatchObject({ hub: { pid: process.pid }, redis: { port: Number(new URL(handle.url).port) } });
    expect(lock.redis.pid).toBe((await serverInfo(handle.url)).pid);
    await handle.stop();
    expect(fs.existsSync(path.join(dataDir, "redis", "owner.json"))).toBe(false);
  });

  it("stops the redis-server a dead hub left on the files, then starts its own", async () => {
    const dataDir = tempDir();
    const dir = writeLock(dataDir, {});
    const port = await findFreePort();
    const orphan = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes"], { stdio: "ignore" });
    children.push(orphan);
    orphan.on("error", () => undefined);
    const exited = new Promise((resolve) => orphan.once("exit", resolve));
    const url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && (await pingRedis(url, 200)) !== null; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    writeLock(dataDir, { hub: { pid: await deadPid(), start: null }, redis: { pid: orphan.pid, start: null, port } });

    const logged: string[] = [];
    const handle = await findOrStartRedis({ redisUrl: null, embedded: "private", dataDir, log: (message) => logged.push(message) });
    started.push(handle);
    await exited;
    expect(orphan.exitCode).toBe(0); // SIGTERM: a clean shutdown, its append-only file written
    // Without /proc start times in the lock, Redis itself vouched for the pid (INFO and CONFIG GET dir).
    expect(logged.join("\n")).toContain(`stopped the redis-server (pid ${orphan.pid}, port ${port}) a previous hub left running`);
    expect(await pingRedis(handle.url, 1_000)).toBeNull();
  });

  it("takes over a lock whose hub is gone and whose server is gone too", async () => {
    const dataDir = tempDir();
    writeLock(dataDir, { hub: { pid: await deadPid(), start: null }, redis: { pid: await deadPid(), start: null, port: 1 } });
    const handle = await findOrStartRedis({ redisUrl: null, embedded: "private", dataDir });
    started.push(handle);
    expect(handle.source).toBe("child");
  });

  it("refuses, in one line, while the hub that owns the folder is alive (also in find mode, before looking elsewhere)", async () => {
    const dataDir = tempDir();
    const owner = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    children.push(owner);
    writeLock(dataDir, { hub: { pid: owner.pid, start: null }, redis: { pid: owner.pid, start: null, port: 6390 } });
    for (const embedded of ["private", "find"] as const) {
      const error = await catchError(findOrStartRedis({ redisUrl: null, embedded, dataDir, localUrl: redisUrl() }));
      expect(error).toBeInstanceOf(RedisDirInUseError);
      expect(error.message).toBe(
        `DATA_DIR ${dataDir} is in use: fpr-hub (pid ${owner.pid}) runs its private redis-server (pid ${owner.pid}, port 6390) there; ` +
          "stop that hub first, give this one its own DATA_DIR, or set REDIS_URL=redis://127.0.0.1:6390 to share its Redis",
      );
    }
  });
});

describe("redactUrl", () => {
  it("hides passwords in the user part and the query", () => {
    expect(redactUrl("redis://user:pw@127.0.0.1:6380/2")).toBe("redis://user:***@127.0.0.1:6380/2");
    expect(redactUrl("redis://:pw@127.0.0.1:6380")).not.toContain("pw");
    expect(redactUrl("redis://127.0.0.1:6380?password=pw")).not.toContain("pw");
  });
});
