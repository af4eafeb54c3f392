import { Redis, ReplyError } from "ioredis";
import type { HealthChecks, HealthReport } from "../health-checks.ts";
import { redactUrl } from "./find-redis.ts";
import { RedisConnectionState } from "./redis-connection-state.ts";

/**
 * What BullMQ needs from Redis, checked at start, on every reconnect and every `REDIS_CHECK_MS`,
 * and reported to the health registry (so /readyz and the log say it, not only a line BullMQ
 * prints once on stderr):
 * - `maxmemory-policy noeviction` (BullMQ: "Important! Make sure to set maxmemory-policy to
 *   noeviction"): any other policy lets Redis drop queued jobs and schedules under memory pressure
 *   without an error. Problem `redis-eviction-policy` (/readyz 503); in production the start is
 *   refused (`refuseEvictingRedis`). `REDIS_ALLOW_EVICTION=1` is the operator accepting the risk
 *   (say, a volatile-* policy that never touches BullMQ's keys, which carry no TTL): a warning, and
 *   production starts.
 * - persistence: with no RDB save points and no append-only file a Redis restart empties every
 *   queue. Warning `redis-not-persistent`.
 * - managed Redis often refuses CONFIG: then the policy is read from INFO where it can be, and the
 *   warning `redis-config-unreadable` says what could not be verified. Never a crash.
 * - Redis unreachable: problem `redis-unavailable` (the api keeps answering lookups and writes keep
 *   their events in the outbox meanwhile).
 */

/** What the checks read from Redis; `null` where Redis would not say. */
export interface RedisSettings {
  policy: string | null;
  /** `CONFIG GET save`: "" when no RDB save points are set. */
  save: string | null;
  /** `CONFIG GET appendonly`, else INFO's `aof_enabled`. */
  appendOnly: boolean | null;
  /** Why CONFIG GET was refused (e.g. the command is renamed or not permitted); null when it answered. */
  configRefused: string | null;
}

export interface RedisVerdict {
  eviction: HealthReport | null;
  persistence: HealthReport | null;
  config: HealthReport | null;
}

/** Health sources, one per finding, so each clears on its own. */
const SOURCE = { eviction: "redis.eviction", persistence: "redis.persistence", config: "redis.config" } as const;
const CHECK_TIMEOUT_MS = 5_000;

const EVICTION_FIX =
  "Fix: run `CONFIG SET maxmemory-policy noeviction` on the server and set `maxmemory-policy noeviction` in redis.conf " +
  "(or the provider's parameter group) so it survives a restart.";

/** The judgement, apart from Redis: what each setting means for BullMQ. */
export function judgeRedisSettings(settings: RedisSettings, options: { allowEviction?: boolean } = {}): RedisVerdict {
  const { policy, save, appendOnly, configRefused } = settings;
  const eviction: HealthReport | null =
    policy !== null && policy !== "noeviction"
      ? {
          code: "redis-eviction-policy",
          severity: options.allowEviction ? "warning" : "problem",
          detail:
            `Redis has maxmemory-policy ${policy}: under memory pressure it deletes keys, so queued webhook deliveries, ` +
            `retries and maintenance schedules can vanish without an error. BullMQ needs noeviction. ${EVICTION_FIX}`,
        }
      : null;
  const persistence: HealthReport | null =
    save === "" && appendOnly === false
      ? {
          code: "redis-not-persistent",
          severity: "warning",
          detail:
            "Redis keeps nothing on disk (no save points, appendonly no): a Redis restart empties every queue. " +
            "Fix: `CONFIG SET appendonly yes` and `appendonly yes` in redis.conf.",
        }
      : null;
  const config: HealthReport | null =
    configRefused !== null
      ? {
          code: "redis-config-unreadable",
          severity: "warning",
          detail:
            `Redis refused CONFIG GET (${configRefused}), as managed Redis often does: ` +
            (policy === null ? "the hub could not verify that maxmemory-policy is noeviction" : `INFO says maxmemory-policy ${policy}`) +
            (appendOnly === true ? "" : ", and it could not verify that Redis persists its data") +
            ". Check the provider's settings: maxmemory-policy noeviction, persistence (AOF) on.",
        }
      : null;
  return { eviction, persistence, config };
}

async function configValue(connection: Redis, name: string): Promise<string> {
  const reply = (await connection.config("GET", name)) as unknown as string[];
  return reply[1] ?? "";
}

function infoField(info: string, name: string): string | null {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${name}:`));
  return line === undefined ? null : line.slice(name.length + 1).trim();
}

/** A Redis error reply (the server said no), as opposed to a connection that failed. */
function isReplyError(error: unknown): error is Error {
  return error instanceof (ReplyError as ErrorConstructor);
}

/** Reads the settings; a refused CONFIG falls back to INFO. Connection failures are thrown. */
export async function readRedisSettings(connection: Redis): Promise<RedisSettings> {
  try {
    const [policy, save, appendOnly] = await Promise.all(["maxmemory-policy", "save", "appendonly"].map((name) => configValue(connection, name)));
    return { policy, save, appendOnly: appendOnly === "yes", configRefused: null };
  } catch (error) {
    if (!isReplyError(error)) throw error;
    const info = await connection.info().catch((infoError: unknown) => {
      if (isReplyError(infoError)) return "";
      throw infoError;
    });
    const aof = infoField(info, "aof_enabled");
    return { policy: infoField(info, "maxmemory_policy"), save: null, appendOnly: aof === null ? null : aof === "1", configRefused: error.message };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface RedisRequirementsWatch {
  /** Checks now (a check already running is not doubled). */
  check(): Promise<void>;
  /** Stops the timer and the listeners; the connection stays the caller's. */
  close(): void;
}

/**
 * Watches `connection` (the hub's own producer connection, so "unreachable" means what the api
 * sees): checks once before returning, then on every `ready` (a reconnect, perhaps to a Redis
 * restarted with other settings) and every `intervalMs`.
 */
export async function watchRedisRequirements(
  connection: Redis,
  health: HealthChecks,
  options: { url: string; intervalMs: number; allowEviction?: boolean; state?: RedisConnectionState },
): Promise<RedisRequirementsWatch> {
  let running: Promise<void> | null = null;
  let closed = false;
  const state = options.state ?? new RedisConnectionState(health, options.url);
  const unavailable = (reason: string): void => state.down(reason);
  const runCheck = async (): Promise<void> => {
    if (closed) return;
    if (connection.status !== "ready") return unavailable(`connection ${connection.status}`);
    try {
      const verdict = judgeRedisSettings(await withTimeout(readRedisSettings(connection), CHECK_TIMEOUT_MS), options);
      if (closed) return;
      state.up();
      health.report(SOURCE.eviction, verdict.eviction);
      health.report(SOURCE.persistence, verdict.persistence);
      health.report(SOURCE.config, verdict.config);
    } catch (error) {
      if (!closed) unavailable((error as Error).message);
    }
  };
  const check = (): Promise<void> => {
    running ??= runCheck().finally(() => (running = null));
    return running;
  };
  const onReady = (): void => void check();
  const onClose = (): void => {
    if (!closed) unavailable("connection closed");
  };
  connection.on("ready", onReady);
  connection.on("close", onClose);
  // Any other client of the process coming back (a worker's connection) checks too.
  state.onReady = onReady;
  const timer = setInterval(onReady, options.intervalMs);
  timer.unref();
  await check();
  return {
    check,
    close() {
      closed = true;
      clearInterval(timer);
      connection.off("ready", onReady);
      connection.off("close", onClose);
    },
  };
}

/** A Redis the hub will not start on; the message says what to change. */
export class RedisRefusedError extends Error {
  override readonly name = "RedisRefusedError";
}

/**
 * At a production start: a Redis whose maxmemory-policy may evict keys is refused, as BullMQ
 * advises ("make sure to set maxmemory-policy to noeviction"), unless REDIS_ALLOW_EVICTION=1. A
 * Redis that will not say its policy (CONFIG and INFO refused) is let through: /readyz warns.
 */
export async function refuseEvictingRedis(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: CHECK_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on("error", () => undefined);
  let settings: RedisSettings;
  try {
    settings = await withTimeout(client.connect().then(() => readRedisSettings(client)), CHECK_TIMEOUT_MS);
  } catch (error) {
    throw new RedisRefusedError(`Redis at ${redactUrl(url)} did not say its maxmemory-policy: ${(error as Error).message}`);
  } finally {
    client.disconnect();
  }
  const { eviction } = judgeRedisSettings(settings);
  if (eviction) {
    throw new RedisRefusedError(
      `Redis at ${redactUrl(url)} has maxmemory-policy ${settings.policy}; BullMQ needs noeviction, so a production hub does not start on it. ` +
        `${EVICTION_FIX} Or set REDIS_ALLOW_EVICTION=1 to start anyway (/readyz then warns redis-eviction-policy).`,
    );
  }
}
