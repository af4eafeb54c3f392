import fs from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { writePrivateFile } from "../private-files.ts";

/**
 * Who owns `DATA_DIR/redis`. The lock file `DATA_DIR/redis/owner.json` names the hub process that
 * runs a private redis-server there and that server, each with its start time (so a recycled pid
 * is never taken for it). At start:
 * - another live hub owning the folder is a refusal, with a one-line reason: two redis-servers on
 *   one append-only file corrupt it, and two hubs on two private Redis would not share their queues;
 * - a redis-server that a dead hub left running (the hub was SIGKILLed or crashed: the child
 *   outlives it) is stopped, so no orphan runs beside the new one on the same files;
 * - at a clean stop the file goes with the server.
 * Two hubs starting in the same instant after a crash could both judge the old file stale; the
 * exclusive create (`wx`) then lets only one of them in.
 */

const LOCK_FILE = "owner.json";
const STOP_TIMEOUT_MS = 10_000;

interface ProcessRef {
  pid: number;
  /** `/proc/<pid>/stat` start time (clock ticks since boot), or null where there is no /proc. */
  start: string | null;
}

interface LockContent {
  hub: ProcessRef;
  redis: (ProcessRef & { port: number }) | null;
}

/** DATA_DIR/redis belongs to another live hub (or to a process the hub cannot vouch for). */
export class RedisDirInUseError extends Error {
  override readonly name = "RedisDirInUseError";
}

/** A process's start time from /proc (Linux), or null: with the pid it names one process for good. */
function startTimeOf(pid: number): string | null | "gone" {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return fs.existsSync("/proc/self/stat") ? "gone" : null;
  }
  // Fields after the command name (which may hold spaces): state is field 3, starttime field 22.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return "gone"; // exited, not yet reaped
  return fields[19] ?? null;
}

function refOf(pid: number): ProcessRef {
  const start = startTimeOf(pid);
  return { pid, start: start === "gone" ? null : start };
}

/** Whether the process the reference names still runs (false for a pid now used by another process). */
function isRunning(ref: ProcessRef): boolean {
  try {
    process.kill(ref.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const start = startTimeOf(ref.pid);
  if (start === "gone") return false;
  return ref.start === null || start === null || start === ref.start;
}

function readLock(file: string): LockContent | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as LockContent;
    return typeof parsed?.hub?.pid === "number" ? parsed : null;
  } catch {
    return null;
  }
}

function describeOwner(dir: string, lock: LockContent): string {
  const dataDir = path.dirname(dir);
  if (!lock.redis) return `DATA_DIR ${dataDir} is in use: fpr-hub (pid ${lock.hub.pid}) is starting its private redis-server there; stop that hub first, or give this one its own DATA_DIR`;
  return (
    `DATA_DIR ${dataDir} is in use: fpr-hub (pid ${lock.hub.pid}) runs its private redis-server (pid ${lock.redis.pid}, port ${lock.redis.port}) there; ` +
    `stop that hub first, give this one its own DATA_DIR, or set REDIS_URL=redis://127.0.0.1:${lock.redis.port} to share its Redis`
  );
}

/** Refuses (RedisDirInUseError) when another live hub runs a private redis-server in `dir`. */
export function refuseIfOwned(dir: string): void {
  const lock = readLock(path.join(dir, LOCK_FILE));
  if (lock && isRunning(lock.hub)) throw new RedisDirInUseError(describeOwner(dir, lock));
}

/** Confirms over Redis itself that the orphan is the redis-server with that pid on these files. */
async function answersAs(port: number, pid: number, dir: string): Promise<boolean> {
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const info = await client.info("server");
    const [, served] = (await client.config("GET", "dir")) as [string, string];
    return Number(/^process_id:(\d+)/m.exec(info)?.[1]) === pid && fs.realpathSync(served) === fs.realpathSync(dir);
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function waitUntilGone(ref: ProcessRef, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(ref)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Stops a redis-server a dead hub left on `dir` (SIGTERM: it writes its append-only file; SIGKILL after 10 s). */
async function stopOrphan(dir: string, orphan: ProcessRef & { port: number }, log: (message: string) => void): Promise<void> {
  if (!isRunning(orphan)) return;
  // Without /proc, only Redis itself can say the pid is still that server (and not a recycled pid).
  if (orphan.start === null && !(await answersAs(orphan.port, orphan.pid, dir))) {
    throw new RedisDirInUseError(
      `pid ${orphan.pid} may be a redis-server a previous hub left on ${dir}, and the hub cannot verify it; stop it, then remove ${path.join(dir, LOCK_FILE)}`,
    );
  }
  process.kill(orphan.pid, "SIGTERM");
  if (!(await waitUntilGone(orphan, STOP_TIMEOUT_MS))) {
    process.kill(orphan.pid, "SIGKILL");
    await waitUntilGone(orphan, STOP_TIMEOUT_MS);
  }
  log(`Redis: stopped the redis-server (pid ${orphan.pid}, port ${orphan.port}) a previous hub left running on ${dir}`);
}

export interface RedisDirLock {
  /** Records the child this hub started, so a later start can stop it if this hub dies first. */
  recordChild(pid: number, port: number): void;
  /** Removes the lock file (only while it is still this hub's). */
  release(): void;
}

/**
 * Takes `dir` for this process: refuses a live owner, stops a dead owner's redis-server, then
 * writes the lock file exclusively.
 */
export async function lockRedisDir(dir: string, log: (message: string) => void): Promise<RedisDirLock> {
  const file = path.join(dir, LOCK_FILE);
  const hub = refOf(process.pid);
  const write = (content: LockContent, flag: "w" | "wx"): void => writePrivateFile(file, `${JSON.stringify(content)}\n`, flag);
  for (let attempt = 0; ; attempt++) {
    try {
      write({ hub, redis: null }, "wx");
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const previous = readLock(file);
    if (previous && isRunning(previous.hub)) throw new RedisDirInUseError(describeOwner(dir, previous));
    // The stale file was replaced between our look and our write: another hub got in first.
    if (attempt > 0) throw new RedisDirInUseError(`DATA_DIR ${path.dirname(dir)} is in use: another fpr-hub is starting its private redis-server there`);
    if (previous?.redis) await stopOrphan(dir, previous.redis, log);
    fs.rmSync(file, { force: true });
  }
  const isMine = (): boolean => {
    const now = readLock(file);
    return now !== null && now.hub.pid === hub.pid && now.hub.start === hub.start;
  };
  return {
    recordChild(pid, port) {
      const temp = `${file}.${process.pid}.tmp`;
      writePrivateFile(temp, `${JSON.stringify({ hub, redis: { ...refOf(pid), port } })}\n`, "w");
      fs.renameSync(temp, file);
    },
    release() {
      if (isMine()) fs.rmSync(file, { force: true });
    },
  };
}
