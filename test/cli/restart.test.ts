import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hubEnv, HubProcess, isAlive, redisServersOn } from "../helpers/hub-process.ts";
import { eventually } from "../helpers/receiver.ts";
import { tempDir } from "../helpers/temp-hub.ts";

/**
 * Restarts reuse nothing stale (src/redis/redis-child-lock.ts), with real `fpr-hub start`
 * processes and their real redis-server children: a hub killed outright leaves its Redis running
 * as an orphan; the next start stops that orphan before starting its own, so two servers never
 * share the append-only file, and a clean stop leaves none. A second hub on a DATA_DIR whose hub
 * is alive is refused in one line.
 */
describe("restarting fpr-hub start on the same DATA_DIR", () => {
  const hubs: HubProcess[] = [];
  afterAll(async () => {
    await Promise.all(hubs.map((hub) => hub.kill("SIGKILL")));
    // Whatever a failed test left: this file's redis-servers (found by their folder) go too.
    for (const dir of dirs) for (const pid of redisServersOn(dir)) process.kill(pid, "SIGKILL");
  });
  const dirs: string[] = [];
  const start = async (dataDir: string): Promise<HubProcess> => {
    const hub = await HubProcess.start(["start"], hubEnv(dataDir, { OPS_PORT: "0" }));
    hubs.push(hub);
    return hub;
  };

  it("after a SIGKILL the orphaned redis-server is stopped by the next start, never run beside it; a clean stop leaves none", async () => {
    const dataDir = tempDir();
    const redisDir = path.join(dataDir, "redis");
    dirs.push(redisDir);
    const first = await start(dataDir);
    const orphan = first.redisPid;
    expect(redisServersOn(redisDir)).toEqual([orphan]);

    expect(await first.kill("SIGKILL")).toEqual({ code: null, signal: "SIGKILL" });
    expect(isAlive(orphan)).toBe(true); // the child outlives a hub killed outright
    expect(redisServersOn(redisDir)).toEqual([orphan]);

    const second = await start(dataDir);
    expect(second.output).toContain(`stopped the redis-server (pid ${orphan}`);
    expect(isAlive(orphan)).toBe(false);
    expect(second.redisPid).not.toBe(orphan);
    expect(redisServersOn(redisDir)).toEqual([second.redisPid]);
    expect((await fetch(`${second.opsUrl}/readyz`)).status).toBe(200);

    second.signal("SIGTERM");
    expect(await second.exited, second.output).toEqual({ code: 0, signal: null });
    await eventually(() => redisServersOn(redisDir).length === 0, 10_000, "no redis-server left on the folder");
    expect(fs.existsSync(path.join(redisDir, "owner.json"))).toBe(false);
  }, 300_000);

  it("a second hub on a DATA_DIR whose hub is alive is refused with a one-line reason, and the first runs on", async () => {
    const dataDir = tempDir();
    dirs.push(path.join(dataDir, "redis"));
    const first = await start(dataDir);
    const second = HubProcess.spawn(["start"], hubEnv(dataDir));
    hubs.push(second);
    expect(await second.exited).toEqual({ code: 1, signal: null });
    const reason = second.output.trim().split("\n").filter((line) => line.startsWith("fpr-hub:"));
    const port = /started redis-server \(pid \d+\) at redis:\/\/127\.0\.0\.1:(\d+)/.exec(first.output)![1];
    expect(reason).toEqual([
      `fpr-hub: DATA_DIR ${dataDir} is in use: fpr-hub (pid ${first.pid}) runs its private redis-server (pid ${first.redisPid}, port ${port}) there; ` +
        `stop that hub first, give this one its own DATA_DIR, or set REDIS_URL=redis://127.0.0.1:${port} to share its Redis`,
    ]);
    expect(second.output).not.toMatch(/started redis-server/);
    expect(redisServersOn(path.join(dataDir, "redis"))).toEqual([first.redisPid]);
    expect((await fetch(`${first.opsUrl}/readyz`)).status).toBe(200);
    first.signal("SIGTERM");
    expect(await first.exited).toEqual({ code: 0, signal: null });
  }, 300_000);
});
