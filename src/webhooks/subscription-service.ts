import crypto from "node:crypto";
import type { HubDb } from "../db/client.ts";
import type { SubscriptionStatus } from "../db/column-types.ts";
import { HubError } from "../errors.ts";
import { EVENT_TYPES, type EventType } from "../events/event-catalogue.ts";
import type { Principal } from "../partners/roles.ts";
import { generateWebhookSecret, type SecretBox } from "./secret-box.ts";
import { usableSubscriptions } from "./subscription-access.ts";
import { SubscriptionStore, type DeliveryRow, type SubscriptionRow } from "./subscription.store.ts";
import { resolveDeliverableUrl, type UrlPolicy } from "./url-safety.ts";

const MAX_SUBSCRIPTIONS_PER_PARTNER = 25;
/** After a rotation the old secret keeps signing beside the new one this long. */
const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

export interface SubscriptionView {
  id: string;
  url: string;
  eventTypes: EventType[];
  status: SubscriptionStatus;
  disabledReason: string | null;
  createdAt: string;
}

function toSubscriptionView(row: SubscriptionRow): SubscriptionView {
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.eventTypes.split(",") as EventType[],
    status: row.status,
    disabledReason: row.disabledReason,
    createdAt: row.createdAt,
  };
}

function requireEventTypes(types: readonly string[]): EventType[] {
  const unique = [...new Set(types)];
  if (unique.length === 0) throw new HubError("BAD_USER_INPUT", "eventTypes must name at least one event type", { field: "eventTypes" });
  if (unique.some((type) => !EVENT_TYPES.includes(type as EventType))) {
    throw new HubError("BAD_USER_INPUT", "unknown event type", { field: "eventTypes" });
  }
  return EVENT_TYPES.filter((type) => unique.includes(type));
}

/** A partner's own webhook subscriptions: create, rotate, pause, resume, delete, read the log. */
export class SubscriptionService {
  private readonly store: SubscriptionStore;

  constructor(
    db: HubDb,
    private readonly box: SecretBox,
    private readonly policy: UrlPolicy,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.store = new SubscriptionStore(db);
  }

  async create(principal: Principal, url: string, eventTypes: readonly string[]): Promise<{ subscription: SubscriptionView; secret: string }> {
    const partnerId = requirePartner(principal);
    const types = requireEventTypes(eventTypes);
    const target = await resolveDeliverableUrl(url, this.policy);
    if (this.store.countOfPartner(partnerId) >= MAX_SUBSCRIPTIONS_PER_PARTNER) {
      throw new HubError("BAD_USER_INPUT", `a partner may have at most ${MAX_SUBSCRIPTIONS_PER_PARTNER} subscriptions`);
    }
    const secret = generateWebhookSecret();
    const row = this.store.insert({
      id: `sub_${crypto.randomBytes(9).toString("base64url")}`,
      partnerId,
      keyId: principal.keyId,
      url: target.url.toString(),
      eventTypes: types.join(","),
      secretSealed: this.box.seal(secret),
      createdAt: this.now().toISOString(),
    });
    return { subscription: toSubscriptionView(row), secret };
  }

  /** The subscriptions of the caller's partner that the caller may use (see subscription-access.ts). */
  list(principal: Principal): SubscriptionView[] {
    requirePartner(principal);
    return usableSubscriptions(this.store, principal).map(toSubscriptionView);
  }

  /**
   * A subscription the caller may use: every operation on one goes through here. Another
   * partner's, or one created by a key with scopes the caller lacks, reads as not found.
   */
  own(principal: Principal, id: string): SubscriptionRow {
    const [row] = usableSubscriptions(this.store, principal, id);
    if (!row) throw new HubError("NOT_FOUND", `subscription ${id} does not exist`);
    return row;
  }

  rotateSecret(principal: Principal, id: string): { subscription: SubscriptionView; secret: string } {
    const row = this.own(principal, id);
    const secret = generateWebhookSecret();
    this.update(id, {
      secretSealed: this.box.seal(secret),
      previousSecretSealed: row.secretSealed,
      previousSecretUntil: new Date(this.now().getTime() + ROTATION_OVERLAP_MS).toISOString(),
    });
    return { subscription: toSubscriptionView(this.own(principal, id)), secret };
  }

  pause(principal: Principal, id: string): SubscriptionView {
    const row = this.own(principal, id);
    if (row.status === "DISABLED") throw new HubError("CONFLICT", "a disabled subscription is resumed, not paused");
    return toSubscriptionView(this.update(id, { status: "PAUSED" }));
  }

  /** Re-enables a subscription; it reads with the resuming key from then on (how a rotated key takes over). */
  resume(principal: Principal, id: string): SubscriptionView {
    this.own(principal, id);
    return toSubscriptionView(this.update(id, { status: "ACTIVE", disabledReason: null, failuresSinceSuccess: 0, lastSuccessAt: null, keyId: principal.keyId }));
  }

  delete(principal: Principal, id: string): boolean {
    this.own(principal, id);
    this.store.remove(id);
    return true;
  }

  /** The delivery log, newest attempt first; `after` is the id of the last row of the previous page. */
  deliveries(principal: Principal, id: string, first: number, after: string | null | undefined): DeliveryRow[] {
    this.own(principal, id);
    if (!Number.isInteger(first) || first < 1 || first > 500) throw new HubError("BAD_USER_INPUT", "first must be from 1 to 500", { field: "first" });
    if (after && !/^\d{1,15}$/.test(after)) throw new HubError("BAD_USER_INPUT", "after must be a delivery id", { field: "after" });
    return this.store.deliveryPage(id, first, after ? Number(after) : null);
  }

  /** The partner's first ACTIVE subscription, whoever created it: where the conformance probe goes. */
  firstActiveOf(partnerId: string): SubscriptionRow | undefined {
    return this.store.ofPartner(partnerId).find((subscription) => subscription.status === "ACTIVE");
  }

  /** Secrets that sign right now: the current one, and the previous one during a rotation's overlap. */
  signingSecrets(row: SubscriptionRow): string[] {
    const secrets = [this.box.open(row.secretSealed)];
    if (row.previousSecretSealed && row.previousSecretUntil && row.previousSecretUntil > this.now().toISOString()) {
      secrets.push(this.box.open(row.previousSecretSealed));
    }
    return secrets;
  }

  update(id: string, values: Partial<SubscriptionRow>): SubscriptionRow {
    return this.store.update(id, values);
  }

  /** After a failed attempt: disable on 410, or after prolonged failure. */
  recordFailure(id: string, options: { gone: boolean; disableAfterMs: number; disableAfterFailures: number }): void {
    const row = this.store.countFailure(id);
    if (!row || row.status !== "ACTIVE") return;
    if (options.gone) {
      this.update(id, { status: "DISABLED", disabledReason: "the endpoint answered 410 Gone" });
      return;
    }
    const since = Date.parse(row.lastSuccessAt ?? row.createdAt);
    if (row.failuresSinceSuccess >= options.disableAfterFailures && this.now().getTime() - since >= options.disableAfterMs) {
      const days = Math.round(options.disableAfterMs / 86_400_000);
      this.update(id, { status: "DISABLED", disabledReason: `no successful delivery for ${days} days and ${row.failuresSinceSuccess} failed attempts` });
    }
  }
}

function requirePartner(principal: Principal): string {
  if (!principal.partnerId) throw new HubError("FORBIDDEN", "webhook subscriptions belong to a partner key");
  return principal.partnerId;
}
