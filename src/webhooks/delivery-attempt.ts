import { Webhook } from "standardwebhooks";
import { inTransaction, type HubDb } from "../db/client.ts";
import { eventId } from "../events/change-feed.ts";
import type { StoredEvent } from "../events/event-catalogue.ts";
import { readEvent } from "../events/event-log.ts";
import { serializeEvent, serializeTestEvent } from "./cloud-event.ts";
import { DeliveryNetworkError, postPinned } from "./pinned-post.ts";
import { DeliveryStatements, type DeliverySubscription } from "./delivery-statements.ts";
import type { SubscriptionRow, SubscriptionService } from "./subscription-service.ts";
import { resolveDeliverableUrl, type UrlPolicy } from "./url-safety.ts";

export const MAX_RESPONSE_BYTES = 16 * 1024;
/** Why a delivery job is skipped when the subscription does not (or no longer) receive its event. */
export const NOT_ENTITLED = "subscription does not receive this event";

export type AttemptOutcome =
  | { kind: "succeeded" }
  | { kind: "skipped"; reason: string }
  | { kind: "retry"; error: string; retryAfterMs: number | null }
  | { kind: "give-up"; error: string };

export interface DeliveryRef {
  subscriptionId: string;
  sequence: number | null;
  testEventId?: string;
  testTime?: string;
}

export interface DeliverySettings {
  sourceUri: string;
  timeoutMs: number;
  disableAfterMs: number;
  disableAfterFailures: number;
}

interface Message {
  id: string;
  time: string;
  sequence: number | null;
  body: string;
}

interface SendOutcome {
  status: number | null;
  latencyMs: number | null;
  error: string | null;
  retryAfterMs: number | null;
  /** Refused before sending (the URL policy), as opposed to a network failure. */
  refused: boolean;
}

interface StartedAttempt {
  subscription: DeliverySubscription;
  message: Message;
  rowId: number;
}

function skipReason(subscription: DeliverySubscription | undefined): string | null {
  if (!subscription) return "subscription deleted";
  return subscription.status === "ACTIVE" ? null : `subscription ${subscription.status.toLowerCase()}`;
}

/** Lineage fields go to subscriptions whose creating key (still unrevoked) may read them. */
function seesLineage(subscription: DeliverySubscription): boolean {
  return !subscription.keyRevokedAt && (subscription.keyScopes ?? "").split(",").includes("LINEAGE_READ");
}

/** Runs `work` over `items` with at most `limit` in flight; results in input order. */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** 2xx succeeds; network errors, 5xx, 408 and 429 retry; other answers (and 410) give up. */
function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

function retryAfterMs(header: string | null, now: number): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** One delivery attempt: re-read, sign the exact bytes, POST to the pinned address, log it. */
export class DeliveryAttempts {
  private readonly statements: DeliveryStatements;

  constructor(
    private readonly db: HubDb,
    private readonly subscriptions: SubscriptionService,
    private readonly policy: UrlPolicy,
    private readonly settings: DeliverySettings,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.statements = new DeliveryStatements(db);
  }

  /** Told of every finished attempt, with the time from the event to a 2xx (metrics). */
  onAttempt: ((status: "SUCCEEDED" | "FAILED" | "DEAD", eventToDeliveryMs: number | null) => void) | null = null;

  async attempt(ref: DeliveryRef, isLast: boolean): Promise<AttemptOutcome> {
    const subscription = this.statements.subscription(ref.subscriptionId);
    const skip = skipReason(subscription);
    if (skip) return { kind: "skipped", reason: skip };
    const message = this.message(ref, subscription!);
    if (!message) return { kind: "skipped", reason: "event not found" };
    // Entitlement is checked again at every attempt (retries, replays, any job in the queue), not
    // only at fan-out: an event the subscription may not (or no longer) see is not sent.
    if (message.sequence !== null && !this.statements.receives(ref.subscriptionId, message.sequence)) {
      return { kind: "skipped", reason: NOT_ENTITLED };
    }
    const started = { subscription: subscription!, message, rowId: this.startAttempt(ref, message) };
    return this.complete(started, await this.send(started.subscription, message), isLast);
  }

  /**
   * The first attempt of one event to each of its subscriptions, sent concurrently (at most
   * `concurrency` at once) by the fan-out itself: no queue round trip per delivery. Attempt rows
   * start and finish in one transaction each. Safe to run again for the same event (a fan-out
   * retried after a crash): what already succeeded or died is skipped, an open attempt is resent,
   * and a failed one answers "retry" so its retry job is (re)queued. The ids come from
   * FanoutQueries.subscriptionsFor, run for this event just before: entitlement is judged there.
   */
  async firstAttempts(sequence: number, subscriptionIds: readonly string[], isLast: boolean, concurrency: number): Promise<Map<string, AttemptOutcome>> {
    const outcomes = new Map<string, AttemptOutcome>();
    const event = readEvent(this.db, sequence);
    if (!event) {
      for (const id of subscriptionIds) outcomes.set(id, { kind: "skipped", reason: "event not found" });
      return outcomes;
    }
    // One body per lineage view of the event, shared by the subscriptions that see it.
    const messages = new Map<boolean, Message>();
    const started: StartedAttempt[] = [];
    inTransaction(this.db, () => {
      for (const id of subscriptionIds) {
        const subscription = this.statements.subscription(id);
        const skip = skipReason(subscription);
        if (skip) {
          outcomes.set(id, { kind: "skipped", reason: skip });
          continue;
        }
        const lineage = seesLineage(subscription!);
        let message = messages.get(lineage);
        if (message === undefined) messages.set(lineage, (message = this.eventMessage(event, lineage)));
        const last = this.statements.lastAttempt(id, message.id);
        if (last?.status === "SUCCEEDED" || last?.status === "DEAD") outcomes.set(id, { kind: "skipped", reason: `already ${last.status.toLowerCase()}` });
        else if (last?.status === "FAILED") outcomes.set(id, { kind: "retry", error: "an earlier attempt failed", retryAfterMs: null });
        else started.push({ subscription: subscription!, message, rowId: this.startAttempt({ subscriptionId: id, sequence }, message, last) });
      }
    });
    const results = await mapConcurrently(started, concurrency, (attempt) => this.send(attempt.subscription, attempt.message));
    inTransaction(this.db, () => {
      started.forEach((attempt, i) => outcomes.set(attempt.subscription.id, this.complete(attempt, results[i], isLast)));
    });
    return outcomes;
  }

  /** Logs how an attempt ended and updates the subscription's health; says what happens next. */
  private complete(started: StartedAttempt, outcome: SendOutcome, isLast: boolean): AttemptOutcome {
    const { subscription, message, rowId } = started;
    const ok = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
    const retryable = outcome.status === null ? !outcome.refused : isRetryable(outcome.status);
    const status = ok ? "SUCCEEDED" : retryable && !isLast ? "FAILED" : "DEAD";
    this.finishAttempt(rowId, outcome, status);
    this.onAttempt?.(status, ok ? this.now().getTime() - Date.parse(message.time) : null);
    if (ok) {
      this.statements.recordSuccess(subscription.id, this.now());
      return { kind: "succeeded" };
    }
    this.subscriptions.recordFailure(subscription.id, { gone: outcome.status === 410, ...this.settings });
    const error = outcome.error ?? `HTTP ${outcome.status}`;
    return status === "DEAD" ? { kind: "give-up", error } : { kind: "retry", error, retryAfterMs: outcome.retryAfterMs };
  }

  private message(ref: DeliveryRef, subscription: DeliverySubscription): Message | null {
    const source = this.settings.sourceUri;
    if (ref.sequence === null) {
      const id = ref.testEventId!;
      const time = ref.testTime!;
      return { id, time, sequence: null, body: serializeTestEvent(id, source, time, subscription.id) };
    }
    const event = readEvent(this.db, ref.sequence);
    return event ? this.eventMessage(event, seesLineage(subscription)) : null;
  }

  private eventMessage(event: StoredEvent, lineage: boolean): Message {
    return { id: eventId(event.sequence), time: event.occurredAt, sequence: event.sequence, body: serializeEvent(event, this.settings.sourceUri, lineage) };
  }

  private async send(subscription: SubscriptionRow, message: { id: string; body: string }): Promise<SendOutcome> {
    const started = this.now();
    try {
      const target = await resolveDeliverableUrl(subscription.url, this.policy);
      const headers = this.sign(subscription, message.id, message.body, started);
      const result = await postPinned(target, { headers, body: message.body, timeoutMs: this.settings.timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES });
      const ok = result.status >= 200 && result.status < 300;
      return {
        status: result.status,
        latencyMs: Math.round(result.latencyMs),
        error: ok ? null : `HTTP ${result.status}`,
        retryAfterMs: retryAfterMs(result.retryAfter, this.now().getTime()),
        refused: false,
      };
    } catch (error) {
      const refused = !(error instanceof DeliveryNetworkError);
      const text = refused ? `refused: ${(error as Error).message}` : `${error.kind}: ${error.message}`;
      return { status: null, latencyMs: null, error: text.slice(0, 500), retryAfterMs: null, refused };
    }
  }

  private sign(subscription: SubscriptionRow, id: string, body: string, at: Date): Record<string, string> {
    const signatures = this.subscriptions.signingSecrets(subscription).map((secret) => new Webhook(secret).sign(id, at, body));
    return {
      "content-type": "application/cloudevents+json",
      "user-agent": "fpr-hub-webhooks/1",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signatures.join(" "),
    };
  }

  /**
   * Logs the start of an attempt. Attempts number on per (subscription, event), across retries
   * and replays; a PENDING row left by a test event or by a worker that died is reused.
   */
  private startAttempt(ref: DeliveryRef, message: Message, last = this.statements.lastAttempt(ref.subscriptionId, message.id)): number {
    if (last?.status === "PENDING") return last.id;
    return this.statements.insertAttempt({
      subscriptionId: ref.subscriptionId,
      eventId: message.id,
      sequence: message.sequence,
      eventTime: message.time,
      attempt: (last?.attempt ?? 0) + 1,
      createdAt: this.now().toISOString(),
    });
  }

  private finishAttempt(id: number, outcome: SendOutcome, status: "SUCCEEDED" | "FAILED" | "DEAD"): void {
    this.statements.finishAttempt({
      id,
      status,
      responseStatus: outcome.status,
      latencyMs: outcome.latencyMs,
      error: outcome.error,
      deliveredAt: status === "SUCCEEDED" ? this.now().toISOString() : null,
    });
  }
}
