import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { Redis } from "ioredis";
import { ConfigError } from "../config.ts";
import { ensureOwnDir, ensurePrivateDir } from "../private-files.ts";
import { lockRedisDir, refuseIfOwned } from "./redis-child-lock.ts";

/**
 * Finds the Redis the hub uses for BullMQ and rate limits, in this order: `REDIS_URL`; a server
 * on 127.0.0.1:6379 if one answers (only with `embedded: "find"`, the development default); a
 * private `redis-server` child with its files under `<DATA_DIR>/redis`; otherwise
 * `RedisUnavailableError`, whose message says how to get Redis. With `embedded: "off"` (the
 * production default) REDIS_URL is required. A private child is the folder's one owner
 * (src/redis/redis-child-lock.ts): a second hub on the same DATA_DIR is refused, and a child a
 * dead hub left behind is stopped before a new one starts.
 */
export interface RedisHandle {
  url: string;
  source: "configured" | "local" | "child";
  /** Stops a child this hub started (SIGTERM, then waits for it to exit); no-op otherwise. */
  stop(): Promise<void>;
}

export interface FindRedisOptions {
  /** `REDIS_URL`: used as is; it must answer PING. */
  redisUrl: string | null;
  /** A child's files go under `<dataDir>/redis`. */
  dataDir: string;
  /** Without REDIS_URL: `find` (default) tries localUrl, then a child; `private` starts a child; `off` refuses (ConfigError). */
  embedded?: "find" | "private" | "off";
  /** Default `redis://127.0.0.1:6379`: used when it answers PING. */
  localUrl?: string;
  /** Default `redis-server`, found on PATH. */
  redisServerBinary?: string;
  /** Default true: a child keeps an append-only file, so queued jobs survive restarts. */
  persist?: boolean;
  log?: (message: string) => void;
}

export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
}

const HOW_TO_GET_REDIS =
  "Install Redis (`apt-get install redis-server`) so the hub can start its own, " +
  "run one on 127.0.0.1:6379, or set REDIS_URL to a Redis server (redis://host:port).";
const DEFAULT_LOCAL_URL = "redis://127.0.0.1:6379";
const CONFIGURED_TIMEOUT_MS = 3_000;
const LOCAL_TIMEOUT_MS = 1_000;
const CHILD_START_TIMEOUT_MS = 10_000;
const CHILD_STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 2_000;

export async function findOrStartRedis(options: FindRedisOptions): Promise<RedisHandle> {
  const log = options.log ?? (() => {});
  if (options.redisUrl) return useConfiguredRedis(options.redisUrl, log);
  const embedded = options.embedded ?? "find";
  if (embedded === "off") {
    throw new ConfigError(
      "REDIS_URL is required when NODE_ENV=production (set REDIS_URL=redis://host:port, or REDIS_EMBEDDED=1 to let the hub run its own redis-server under DATA_DIR/redis)",
    );
  }
  // A hub already running its private Redis on these files: refuse before looking anywhere else.
  refuseIfOwned(path.join(options.dataDir, "redis"));
  if (embedded === "private") return startRedisChild(options, log);
  const localUrl = options.localUrl ?? DEFAULT_LOCAL_URL;
  const localProblem = await pingRedis(localUrl, LOCAL_TIMEOUT_MS);
  if (localProblem === null) {
    log(`Redis: using the server at ${redactUrl(localUrl)}`);
    return { url: localUrl, source: "local", stop: async () => {} };
  }
  log(`Redis: nothing usable at ${redactUrl(localUrl)} (${localProblem}); starting redis-server`);
  return startRedisChild(options, log);
}

async function useConfiguredRedis(url: string, log: (message: string) => void): Promise<RedisHandle> {
  const problem = await pingRedis(url, CONFIGURED_TIMEOUT_MS);
  if (problem !== null) {
    throw new RedisUnavailableError(
      `REDIS_URL (${redactUrl(url)}) did not answer PING: ${problem}. ` +
        "Check that the server runs and the address and password are right, or unset REDIS_URL.",
    );
  }
  log(`Redis: using REDIS_URL ${redactUrl(url)}`);
  return { url, source: "configured", stop: async () => {} };
}

/** Null when the server answers PING within the timeout, else a short reason (never a password). */
export async function pingRedis(url: string, timeoutMs: number): Promise<string | null> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    enableOfflineQueue: false,
  });
  let lastError: Error | undefined;
  client.on("error", (error: Error) => (lastError = error));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), timeout]);
    return null;
  } catch (error) {
    const reason = lastError?.message ?? (error as Error).message;
    return redactSecrets(reason, url);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** The URL with any password (in the user part or the query) replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|secret|token/i.test(key)) parsed.searchParams.set(key, "***");
    }
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//***@").replace(/\?.*$/, "");
  }
}

function redactSecrets(text: string, url: string): string {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? text.split(password).join("***") : text;
  } catch {
    return text;
  }
}

/** A port the OS reports free on 127.0.0.1 (closed again before returning). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startRedisChild(options: FindRedisOptions, log: (message: string) => void): Promise<RedisHandle> {
  const dir = path.join(options.dataDir, "redis");
  // Redis keeps the queues' data (import and delivery jobs) here: owner-only, like DATA_DIR.
  ensurePrivateDir(options.dataDir);
  ensureOwnDir(dir);
  const lock = await lockRedisDir(dir, log);
  const port = await findFreePort();
  const url = `redis://127.0.0.1:${port}`;
  const child = await spawnRedisServer(options.redisServerBinary ?? "redis-server", port, dir, options.persist ?? true).catch((error: unknown) => {
    lock.release();
    throw error;
  });
  lock.recordChild(child.pid!, port);
  const output = collectOutputTail(child);
  const killOnExit = (): void => void child.kill("SIGTERM");
  process.on("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const stop = async (): Promise<void> => {
    process.off("exit", killOnExit);
    await stopChild(child);
    lock.release();
  };
  const problem = await waitUntilAnswering(child, url);
  if (problem !== null) {
    await stop();
    throw new RedisUnavailableError(`redis-server did not start (${problem}). Its output ends with:\n${output()}`);
  }
  // The hub's own handles keep it alive; a forgotten child must not, and `exit` still kills it.
  child.unref();
  log(`Redis: started redis-server (pid ${child.pid}) at ${url}, files in ${dir}`);
  return { url, source: "child", stop };
}

async function spawnRedisServer(binary: string, port: number, dir: string, persist: boolean): Promise<ChildProcess> {
  const args = [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
    "--appendonly", persist ? "yes" : "no", "--daemonize", "no", "--protected-mode", "yes", "--logfile", "",
  ];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "EACCES") {
        reject(new RedisUnavailableError(`No Redis found: cannot run ${binary} (${error.code}). ${HOW_TO_GET_REDIS}`));
      } else {
        reject(error);
      }
    });
  });
  child.on("error", () => {}); // a failed kill() of an already-gone child must not crash the hub
  return child;
}

/** Keeps draining the child's pipes (a full pipe would block it) and remembers their tail. */
function collectOutputTail(child: ChildProcess): () => string {
  let tail = "";
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
  };
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on("data", keep);
    (stream as unknown as net.Socket | null)?.unref?.();
  }
  return () => tail.trim() || "(no output)";
}

async function waitUntilAnswering(child: ChildProcess, url: string): Promise<string | null> {
  const deadline = Date.now() + CHILD_START_TIMEOUT_MS;
  for (;;) {
    if (hasExited(child)) return `it exited with ${child.exitCode ?? child.signalCode}`;
    const problem = await pingRedis(url, 500);
    if (problem === null) return null;
    if (Date.now() >= deadline) return `no PONG within ${CHILD_START_TIMEOUT_MS} ms: ${problem}`;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  child.ref();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), CHILD_STOP_TIMEOUT_MS);
  });
  if (await Promise.race([exited.then(() => false), timedOut])) {
    child.kill("SIGKILL");
    await exited;
  }
  clearTimeout(timer);
}
