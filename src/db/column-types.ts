/**
 * The closed sets of values that text columns hold, one home per list. schema.ts types its columns
 * with them (`.$type<…>()`, which changes no migration), and the domains import them from here:
 * the kernel imports no domain, so the lists cannot live in the domain that owns the rule.
 */

/** webhook_subscriptions.status: ACTIVE receives deliveries; PAUSED by its partner; DISABLED by the hub. */
export const SUBSCRIPTION_STATUSES = ["ACTIVE", "PAUSED", "DISABLED"] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** webhook_deliveries.status: how one delivery attempt stands. */
export const DELIVERY_STATUSES = ["PENDING", "SUCCEEDED", "FAILED", "DEAD"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** conformance_runs.state: RUNNING until graded. */
export const CONFORMANCE_RUN_STATES = ["RUNNING", "PASSED", "FAILED"] as const;
export type ConformanceRunState = (typeof CONFORMANCE_RUN_STATES)[number];
