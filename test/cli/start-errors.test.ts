import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hubEnv, BIN, ROOT, type Exit } from "../helpers/hub-process.ts";
import { PrivateRedis } from "../helpers/private-redis.ts";
import { redisUrl, uniquePrefix } from "../helpers/redis.ts";
import { tempDir } from "../helpers/temp-hub.ts";

/**
 * Start-up failures an operator causes with a setting: each is a real `fpr-hub start` that exits 1
 * with one line on stderr naming the setting (never "unexpected error", never a stack trace).
 */

interface Case {
  name: string;
  env: Record<string, string>;
  reason: RegExp;
  /** Spawn options beyond the environment (another user). */
  as?: { uid: number; gid: number };
}

/** Runs `fpr-hub start`; resolves with its exit and its standard error. */
function startAndFail(env: Record<string, string>, as?: Case["as"]): Promise<Exit & { stderr: string }> {
  const child = spawn(process.execPath, [BIN, "start"], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"], ...as });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  // One that starts after all must not hang the test: stopped (its Redis child with it), then killed.
  const stopper = setTimeout(() => child.kill("SIGTERM"), 120_000);
  const killer = setTimeout(() => child.kill("SIGKILL"), 150_000);
  return new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      clearTimeout(stopper);
      clearTimeout(killer);
      resolve({ code, signal, stderr });
    }),
  );
}

function readOnlyTmpfs(): { dir: string; unmount(): void } | string {
  const dir = tempDir("fpr-hub-ro-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    return `mount -t tmpfs refused: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
  return { dir, unmount: () => execFileSync("umount", [dir], { stdio: "pipe" }) };
}

describe("fpr-hub start refuses a bad setting in one line naming it", () => {
  const busy = net.createServer();
  let busyPort = 0;
  let evicting: PrivateRedis | undefined;
  const readOnly = readOnlyTmpfs();
  // Another user than this one cannot write to a folder this one owns (root: the child runs as nobody).
  const isRoot = process.getuid?.() === 0;
  const outsideRun = isRoot ? fs.mkdtempSync(path.join("/tmp", "fpr-hub-nobody-")) : "";

  beforeAll(async () => {
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    busyPort = (busy.address() as net.AddressInfo).port;
    evicting = await PrivateRedis.start({ args: ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"] });
  });
  afterAll(async () => {
    busy.close();
    await evicting?.destroy();
    if (typeof readOnly !== "string") readOnly.unmount();
    if (outsideRun) fs.rmSync(outsideRun, { recursive: true, force: true });
  });

  it("port in use, unknown HOST, HOST not of this machine, DATA_DIR a file or not writable, production without Redis or with an evicting one", async () => {
    const withRedis = (extra: Record<string, string>) => hubEnv(tempDir(), { REDIS_URL: redisUrl(), QUEUE_PREFIX: uniquePrefix(), ...extra });
    const file = path.join(tempDir(), "not-a-folder");
    fs.writeFileSync(file, "");
    const production = { NODE_ENV: "production", HUB_SECRET: "p".repeat(40) };
    const cases: Case[] = [
      { name: "PORT in use", env: withRedis({ PORT: String(busyPort) }), reason: new RegExp(`^fpr-hub: PORT ${busyPort} is already in use on 127\\.0\\.0\\.1 .*choose another PORT$`) },
      { name: "OPS_PORT in use", env: withRedis({ OPS_PORT: String(busyPort) }), reason: new RegExp(`^fpr-hub: OPS_PORT ${busyPort} is already in use .*choose another OPS_PORT$`) },
      { name: "unknown HOST", env: withRedis({ HOST: "no-such-host.invalid" }), reason: /^fpr-hub: HOST "no-such-host\.invalid" is not a name this machine can resolve \((ENOTFOUND|EAI_AGAIN)\): set HOST to/ },
      { name: "HOST not here", env: withRedis({ HOST: "192.0.2.1" }), reason: /^fpr-hub: HOST 192\.0\.2\.1 is not an address of this machine \(EADDRNOTAVAIL\)/ },
      { name: "DATA_DIR a file", env: hubEnv(file), reason: new RegExp(`^fpr-hub: DATA_DIR ${file} is not a folder .*point DATA_DIR at a folder`) },
      { name: "DATA_DIR below a file", env: hubEnv(path.join(file, "data")), reason: /^fpr-hub: DATA_DIR \S+ is not a folder \(it, or a folder on its path, is a file\) \[ENOTDIR\]/ },
      { name: "production without REDIS_URL", env: hubEnv(tempDir(), { ...production, REDIS_EMBEDDED: "" }), reason: /^fpr-hub: REDIS_URL is required when NODE_ENV=production \(set REDIS_URL=redis:\/\/host:port, or REDIS_EMBEDDED=1/ },
      {
        name: "production on an evicting Redis",
        env: hubEnv(tempDir(), { ...production, REDIS_URL: evicting!.url, QUEUE_PREFIX: uniquePrefix() }),
        reason: /^fpr-hub: Redis at redis:\/\/127\.0\.0\.1:\d+\/? has maxmemory-policy allkeys-lru; BullMQ needs noeviction.*REDIS_ALLOW_EVICTION=1/,
      },
    ];
    if (typeof readOnly !== "string") {
      cases.push({ name: "DATA_DIR read-only", env: hubEnv(readOnly.dir), reason: /^fpr-hub: DATA_DIR \S+ is on a read-only file system \[EROFS\]: point DATA_DIR at a folder this user may write to$/ });
    }
    if (isRoot) {
      const notHers = path.join(outsideRun, "data");
      fs.mkdirSync(notHers, { mode: 0o755 });
      const cache = path.join(outsideRun, "tmp");
      fs.mkdirSync(cache, { mode: 0o777 });
      fs.chmodSync(cache, 0o777);
      fs.chmodSync(outsideRun, 0o755);
      cases.push({ name: "DATA_DIR not writable", env: { ...hubEnv(notHers), TMPDIR: cache }, as: { uid: 65534, gid: 65534 }, reason: /^fpr-hub: DATA_DIR \S+ is not writable by this user \(uid 65534\) \[EACCES\]/ });
    } else {
      const mine = tempDir();
      fs.chmodSync(mine, 0o500);
      cases.push({ name: "DATA_DIR not writable", env: hubEnv(mine), reason: /^fpr-hub: DATA_DIR \S+ is not writable by this user/ });
    }

    const outcomes = await Promise.all(cases.map((c) => startAndFail(c.env, c.as)));
    for (const [i, c] of cases.entries()) {
      const { code, stderr } = outcomes[i];
      const lines = stderr.trim().split("\n");
      expect(code, `${c.name}: ${stderr}`).toBe(1);
      expect(lines, c.name).toHaveLength(1);
      expect(lines[0], c.name).toMatch(c.reason);
      expect(lines[0], c.name).not.toMatch(/unexpected error/);
    }
    if (typeof readOnly === "string") console.warn(`DATA_DIR read-only case skipped: ${readOnly}`);
  }, 240_000);
});
