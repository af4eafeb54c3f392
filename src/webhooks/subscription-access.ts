import { parseScopes, type Principal } from "../partners/roles.ts";
import type { SubscriptionRow, SubscriptionStore } from "./subscription.store.ts";

/**
 * Which of its partner's subscriptions a key may see and manage. A subscription receives what the
 * key that created it may see (EVENTS_ALL: every event; LINEAGE_READ: lineage), so a key may use
 * it only when it carries every scope that creating key carries (revoked or not): a key without
 * EVENTS_ALL cannot read, re-sign, pause, replay into or delete an EVENTS_ALL subscription. Other
 * partners' subscriptions, and those the key may not use, do not exist for it (NOT_FOUND).
 */
function mayUseSubscription(principal: Principal, subscription: { partnerId: string }, creatorScopes: string): boolean {
  if (!principal.partnerId || subscription.partnerId !== principal.partnerId) return false;
  return parseScopes(creatorScopes).every((scope) => principal.scopes.has(scope));
}

/** Why a subscription whose creating key was revoked receives nothing, as its owner reads it. */
const KEY_REVOKED_REASON = "the key that created it was revoked: resume it with a current key to receive events again";

/**
 * The subscriptions of the caller's partner (one of them with `id`) that the caller may use. One
 * whose creating key was revoked reads DISABLED (it receives nothing: event-visibility.ts) until a
 * current key resumes it.
 */
export function usableSubscriptions(store: SubscriptionStore, principal: Principal, id?: string): SubscriptionRow[] {
  const partnerId = principal.partnerId;
  if (!partnerId) return [];
  return store
    .withCreators(partnerId, id)
    .filter((row) => mayUseSubscription(principal, row.subscription, row.creatorScopes))
    .map((row) =>
      row.creatorRevokedAt && row.subscription.status === "ACTIVE" ? { ...row.subscription, status: "DISABLED", disabledReason: KEY_REVOKED_REASON } : row.subscription,
    );
}
