import { eq, sql } from "drizzle-orm";
import type { HubDb } from "../db/client.ts";
import { conformanceRuns, partners, webhookDeliveries, webhookSubscriptions } from "../db/schema.ts";

/**
 * The demo's own SQL: whether the register holds any card, one transaction for a whole seed, and the
 * illustrative rows (rollout evidence, a delivery history) written straight into other domains'
 * tables, which no service writes that way.
 */

export type DemoPartnerEvidence = Pick<typeof partners.$inferInsert, "declaredAdaptation" | "declaredAt" | "lastV2023CheckAt" | "conformance" | "conformanceAt">;

export function hasAnyCard(db: HubDb): boolean {
  return Boolean(db.get<{ one: number }>(sql`SELECT 1 AS one FROM cards LIMIT 1`));
}

/** Runs `work` in one transaction (the seed is all there or not at all). */
export function inSeedTransaction<T>(db: HubDb, work: () => T): T {
  return db.$client.transaction(work)();
}

/** The latest events, newest first: what the demo history pretends was delivered. */
export function latestEvents(db: HubDb, limit: number): { sequence: number; at: string }[] {
  return db.$client.prepare("SELECT sequence, occurred_at AS at FROM events ORDER BY sequence DESC LIMIT ?").all(limit) as { sequence: number; at: string }[];
}

export function setPartnerEvidence(db: HubDb, partnerId: string, evidence: DemoPartnerEvidence): void {
  db.update(partners).set(evidence).where(eq(partners.id, partnerId)).run();
}

export function insertConformanceRun(db: HubDb, run: typeof conformanceRuns.$inferInsert): void {
  db.insert(conformanceRuns).values(run).run();
}

export function insertSubscription(db: HubDb, subscription: typeof webhookSubscriptions.$inferInsert): void {
  db.insert(webhookSubscriptions).values(subscription).run();
}

export function insertDelivery(db: HubDb, delivery: typeof webhookDeliveries.$inferInsert): void {
  db.insert(webhookDeliveries).values(delivery).run();
}
