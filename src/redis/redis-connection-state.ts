import type { EventEmitter } from "node:events";
import type { HealthChecks } from "../health-checks.ts";
import { redactUrl } from "./find-redis.ts";

/**
 * One account, for the whole process, of whether Redis answers. Every Redis client reports its
 * `error` events here instead of logging them: the producer connection, the worker's connection,
 * and each BullMQ Queue and Worker (which add connections of their own, each retrying on its own
 * timer). During an outage that is a dozen clients failing several times a second; here it is
 * one state change:
 * - down: the first connection error (or the requirements watch finding the connection closed)
 *   reports the problem `redis-unavailable` to the health registry, which logs it once;
 * - while down, further connection errors are only counted;
 * - back: the requirements watch, run on every `ready`, finds Redis answering and clears the
 *   problem; the health registry logs that once, with how long it lasted and the errors counted.
 * An error that is not about the connection (a script error, a lost job lock) is logged as it comes.
 */

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED"]);
const CONNECTION_MESSAGES =
  /Connection is closed|Stream isn't writeable|connect ETIMEDOUT|max retries per request|enableOfflineQueue|ECONNREFUSED|ECONNRESET|socket hang up|^LOADING|^READONLY|^MASTERDOWN/i;

/** Whether an error says Redis could not be reached (as opposed to a command Redis refused). */
function isConnectionError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (typeof code === "string" && CONNECTION_CODES.has(code)) || (typeof message === "string" && CONNECTION_MESSAGES.test(message));
}

/** The health source both this and the requirements watch report reachability under. */
const CONNECTION_SOURCE = "redis.connection";

type Logger = (entry: Record<string, unknown>) => void;

export class RedisConnectionState {
  #down: { since: number; errors: number } | null = null;
  #onReady: () => void = () => {};

  constructor(
    private readonly health: HealthChecks,
    private readonly url: string,
    private readonly log: Logger = () => {},
  ) {}

  get isDown(): boolean {
    return this.#down !== null;
  }

  /** Called on every `ready` of a watched client (the requirements watch checks, then calls `up`). */
  set onReady(check: () => void) {
    this.#onReady = check;
  }

  /** Redis is unreachable: reported once per outage; later calls only count. */
  down(reason: string): void {
    if (this.#down) {
      this.#down.errors++;
      return;
    }
    this.#down = { since: Date.now(), errors: 0 };
    this.health.report(CONNECTION_SOURCE, {
      code: "redis-unavailable",
      severity: "problem",
      detail:
        `Redis at ${redactUrl(this.url)} is unreachable (${reason}). The api keeps answering lookups and writes keep their ` +
        "events in the outbox; webhooks, imports and maintenance wait until Redis is back. " +
        "Further connection errors are counted, not logged, until it is.",
    });
  }

  /** Redis answered a check: the outage (if any) is over. */
  up(): void {
    const down = this.#down;
    this.#down = null;
    this.health.report(CONNECTION_SOURCE, null, down ? { downMs: Date.now() - down.since, connectionErrors: down.errors } : {});
  }

  /** An `error` event of a Redis client, BullMQ Queue or Worker. */
  error(source: string, error: unknown): void {
    if (isConnectionError(error)) this.down(`${source}: ${(error as Error).message}`);
    else this.log({ level: "warn", msg: "redis client error", source, error: String(error) });
  }

  /** Routes a client's `error` events here, and lets its `ready` trigger a check. */
  watch(client: EventEmitter, source: string): void {
    client.on("error", (error: unknown) => this.error(source, error));
    client.on("ready", () => {
      if (this.#down) this.#onReady();
    });
  }
}
