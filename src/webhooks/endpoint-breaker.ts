import type { HubDb } from "../db/client.ts";
import { EndpointBreakerStore } from "./endpoint-breaker.store.ts";

/**
 * The circuit breaker of each endpoint (subscription), kept in the database so every worker sees
 * it. After `BREAKER_FAILURES` failed attempts in a row the endpoint is parked: nothing is sent
 * to it, and its deliveries wait in the ledger without spending attempts. When the park ends, one
 * attempt goes through as a probe (taken atomically, so one worker sends it); its success closes
 * the breaker and everything owed flows again, its failure parks the endpoint for twice as long,
 * up to `maxMs`. As Svix and Convoy do, a failing endpoint costs itself time, never its neighbours.
 */
export const BREAKER_FAILURES = 5;

export type BreakerState = "CLOSED" | "PARKED" | "PROBING";

export interface BreakerSettings {
  /** The first park; `WEBHOOK_BREAKER_MS`, default 30 s. */
  baseMs: number;
  /** The longest park; `WEBHOOK_BREAKER_MAX_MS`, default 1 h. */
  maxMs: number;
  /** How long a probe holds the endpoint before the next may go (its attempt's timeout and some). */
  probeHoldMs: number;
}

interface EndpointState {
  failures: number;
  parkedUntil: number | null;
}

/** The state an endpoint's columns describe at `now`. */
export function breakerState(endpoint: EndpointState, now: number): BreakerState {
  if (endpoint.failures < BREAKER_FAILURES) return "CLOSED";
  return endpoint.parkedUntil !== null && endpoint.parkedUntil > now ? "PARKED" : "PROBING";
}

/** The park after `failures` failures in a row: base, doubling per further failure, capped. */
function parkFor(failures: number, settings: Pick<BreakerSettings, "baseMs" | "maxMs">): number {
  const doublings = Math.min(30, Math.max(0, failures - BREAKER_FAILURES));
  return Math.min(settings.baseMs * 2 ** doublings, settings.maxMs);
}

export class EndpointBreaker {
  readonly #store: EndpointBreakerStore;

  constructor(
    db: HubDb,
    private readonly settings: BreakerSettings,
  ) {
    this.#store = new EndpointBreakerStore(db, BREAKER_FAILURES);
  }

  /** Takes the one probe of a PROBING endpoint; false when another worker took it first. */
  takeProbe(subscriptionId: string, now: number): boolean {
    return this.#store.takeProbe(subscriptionId, now, now + this.settings.probeHoldMs);
  }

  /** After a failed attempt (counted already): parks the endpoint once it has failed often enough. Returns the park's end, or null. */
  afterFailure(subscriptionId: string, now: number): number | null {
    const failures = this.#store.failures(subscriptionId);
    if (failures === undefined || failures < BREAKER_FAILURES) return null;
    const until = now + parkFor(failures, this.settings);
    this.#store.park(subscriptionId, until);
    return until;
  }
}
