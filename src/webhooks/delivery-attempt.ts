import { Webhook } from "standardwebhooks";
import { inTransaction, type HubDb } from "../db/client.ts";
import { eventId } from "../events/change-feed.ts";
import type { StoredEvent } from "../events/event-catalogue.ts";
import { readEvent } from "../events/event-log.ts";
import { parseScopes } from "../partners/roles.ts";
import { serializeEvent, serializeTestEvent } from "./cloud-event.ts";
import { DeliveryNetworkError, postPinned } from "./pinned-post.ts";
import { DeliveryStore, type DeliverySubscription } from "./delivery.store.ts";
import { attemptStatus, isSuccess, retryAfterMs } from "./retry-policy.ts";
import type { SubscriptionService } from "./subscription-service.ts";
import type { SubscriptionRow } from "./subscription.store.ts";
import { resolveDeliverableUrl, type UrlPolicy } from "./url-safety.ts";

const MAX_RESPONSE_BYTES = 16 * 1024;
/** Why a delivery job is skipped when the subscription does not (or no longer) receive its event. */
const NOT_ENTITLED = "subscription does not receive this event";

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

/** A delivery that may be attempted: the subscription as it stands and the exact message. */
export interface ReadyAttempt {
  kind: "ready";
  subscription: DeliverySubscription;
  message: Message;
}

/** An attempt whose row is logged (PENDING) and which is about to be sent. */
export interface StartedAttempt {
  subscription: DeliverySubscription;
  message: Message;
  rowId: number;
}

export type { SendOutcome };

/** Messages built in one run, by event and lineage view: one body per view, shared by the subscriptions that see it. */
export type MessageCache = Map<string, Message | null>;

function skipReason(subscription: DeliverySubscription | undefined): string | null {
  if (!subscription) return "subscription deleted";
  return subscription.status === "ACTIVE" ? null : `subscription ${subscription.status.toLowerCase()}`;
}

/** Lineage fields go to subscriptions whose creating key (still unrevoked) may read them. */
function seesLineage(subscription: DeliverySubscription): boolean {
  return !subscription.keyRevokedAt && parseScopes(subscription.keyScopes).includes("LINEAGE_READ");
}

/** One delivery attempt: re-read, sign the exact bytes, POST to the pinned address, log it. */
export class DeliveryAttempts {
  private readonly store: DeliveryStore;

  constructor(
    private readonly db: HubDb,
    private readonly subscriptions: SubscriptionService,
    private readonly policy: UrlPolicy,
    private readonly settings: DeliverySettings,
    private readonly now: () => Date = () => new Date(),
    /** Told of every finished attempt, with the time from the event to a 2xx (metrics). */
    private readonly onAttempt: ((status: "SUCCEEDED" | "FAILED" | "DEAD", eventToDeliveryMs: number | null) => void) | null = null,
  ) {
    this.store = new DeliveryStore(db);
  }

  /** One attempt of a test event (the ledger's deliveries go through prepareAttempt, start, send and complete). */
  async attempt(ref: DeliveryRef, isLast: boolean): Promise<AttemptOutcome> {
    const ready = this.prepareAttempt(ref);
    if (ready.kind === "skipped") return ready;
    // In transactions: a write that fails at COMMIT (a full disk) must throw, not pass unnoticed.
    const started = inTransaction(this.db, () => this.start(ready));
    const outcome = await this.send(started);
    return inTransaction(this.db, () => this.complete(started, outcome, isLast));
  }

  /**
   * Whether the delivery may be attempted now, judged afresh: the subscription exists and is
   * ACTIVE, the event exists, and (entitlement is checked at every attempt, not only at fan-out)
   * the subscription, as its creating key now stands, receives it. Reads only.
   */
  prepareAttempt(ref: DeliveryRef, messages?: MessageCache): ReadyAttempt | { kind: "skipped"; reason: string } {
    const subscription = this.store.subscription(ref.subscriptionId);
    const skip = skipReason(subscription);
    if (skip) return { kind: "skipped", reason: skip };
    const message = this.message(ref, subscription!, messages);
    if (!message) return { kind: "skipped", reason: "event not found" };
    if (message.sequence !== null && !this.store.receives(ref.subscriptionId, message.sequence)) {
      return { kind: "skipped", reason: NOT_ENTITLED };
    }
    return { kind: "ready", subscription: subscription!, message };
  }

  /** Logs the attempt's start (a PENDING row) and returns what send() needs. */
  start(ready: ReadyAttempt): StartedAttempt {
    const ref = { subscriptionId: ready.subscription.id, sequence: ready.message.sequence };
    return { subscription: ready.subscription, message: ready.message, rowId: this.startAttempt(ref, ready.message) };
  }

  /** Logs how an attempt ended and updates the subscription's health; says what happens next. */
  complete(started: StartedAttempt, outcome: SendOutcome, isLast: boolean): AttemptOutcome {
    const { subscription, message, rowId } = started;
    const status = attemptStatus(outcome, isLast);
    const ok = status === "SUCCEEDED";
    this.finishAttempt(rowId, outcome, status);
    this.onAttempt?.(status, ok ? this.now().getTime() - Date.parse(message.time) : null);
    if (ok) {
      this.store.recordSuccess(subscription.id, this.now());
      return { kind: "succeeded" };
    }
    this.subscriptions.recordFailure(subscription.id, { gone: outcome.status === 410, ...this.settings });
    const error = outcome.error ?? `HTTP ${outcome.status}`;
    return status === "DEAD" ? { kind: "give-up", error } : { kind: "retry", error, retryAfterMs: outcome.retryAfterMs };
  }

  private message(ref: DeliveryRef, subscription: DeliverySubscription, messages?: MessageCache): Message | null {
    const source = this.settings.sourceUri;
    if (ref.sequence === null) {
      const id = ref.testEventId!;
      const time = ref.testTime!;
      return { id, time, sequence: null, body: serializeTestEvent(id, source, time, subscription.id) };
    }
    const key = `${ref.sequence}:${seesLineage(subscription)}`;
    const cached = messages?.get(key);
    if (cached !== undefined) return cached;
    const event = readEvent(this.db, ref.sequence);
    const message = event ? this.eventMessage(event, seesLineage(subscription)) : null;
    messages?.set(key, message);
    return message;
  }

  private eventMessage(event: StoredEvent, lineage: boolean): Message {
    return { id: eventId(event.sequence), time: event.occurredAt, sequence: event.sequence, body: serializeEvent(event, this.settings.sourceUri, lineage) };
  }

  /** Sends the signed message to the pinned address; never throws. */
  async send(attempt: Pick<StartedAttempt, "subscription" | "message">): Promise<SendOutcome> {
    const { subscription, message } = attempt;
    const started = this.now();
    try {
      const target = await resolveDeliverableUrl(subscription.url, this.policy);
      const headers = this.sign(subscription, message.id, message.body, started);
      const result = await postPinned(target, { headers, body: message.body, timeoutMs: this.settings.timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES });
      return {
        status: result.status,
        latencyMs: Math.round(result.latencyMs),
        error: isSuccess(result.status) ? null : `HTTP ${result.status}`,
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
  private startAttempt(ref: DeliveryRef, message: Message, last = this.store.lastAttempt(ref.subscriptionId, message.id)): number {
    if (last?.status === "PENDING") return last.id;
    return this.store.insertAttempt({
      subscriptionId: ref.subscriptionId,
      eventId: message.id,
      sequence: message.sequence,
      eventTime: message.time,
      attempt: (last?.attempt ?? 0) + 1,
      createdAt: this.now().toISOString(),
    });
  }

  private finishAttempt(id: number, outcome: SendOutcome, status: "SUCCEEDED" | "FAILED" | "DEAD"): void {
    this.store.finishAttempt({
      id,
      status,
      responseStatus: outcome.status,
      latencyMs: outcome.latencyMs,
      error: outcome.error,
      deliveredAt: status === "SUCCEEDED" ? this.now().toISOString() : null,
    });
  }
}
