import { and, desc, eq, lt, sql } from "drizzle-orm";
import { inTransaction, writeReturning, type HubDb } from "../db/client.ts";
import { apiKeys, owedDeliveries, webhookDeliveries, webhookSubscriptions } from "../db/schema.ts";

export type SubscriptionRow = typeof webhookSubscriptions.$inferSelect;
export type NewSubscriptionRow = typeof webhookSubscriptions.$inferInsert;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** A subscription with what its creating key carries, for the access rule (subscription-access.ts). */
export interface SubscriptionWithCreator {
  subscription: SubscriptionRow;
  creatorScopes: string;
  creatorRevokedAt: string | null;
}

/**
 * The SQL of a partner's subscriptions and of their delivery log as the partner reads it. Writes
 * whose RETURNING row is used run in a transaction (db/client.ts says why).
 */
export class SubscriptionStore {
  constructor(private readonly db: HubDb) {}

  countOfPartner(partnerId: string): number {
    return this.db
      .select({ n: sql<number>`count(*)` })
      .from(webhookSubscriptions)
      .where(eq(webhookSubscriptions.partnerId, partnerId))
      .get()!.n;
  }

  insert(values: NewSubscriptionRow): SubscriptionRow {
    const insert = this.db.insert(webhookSubscriptions).values(values).returning();
    return writeReturning(this.db, () => insert.get());
  }

  update(id: string, values: Partial<SubscriptionRow>): SubscriptionRow {
    return writeReturning(this.db, () => this.db.update(webhookSubscriptions).set(values).where(eq(webhookSubscriptions.id, id)).returning().get()!);
  }

  /** Counts one more failure since the last success; the row as it now stands, or undefined when it is gone. */
  countFailure(id: string): SubscriptionRow | undefined {
    const failed = this.db
      .update(webhookSubscriptions)
      .set({ failuresSinceSuccess: sql`${webhookSubscriptions.failuresSinceSuccess} + 1` })
      .where(eq(webhookSubscriptions.id, id))
      .returning();
    return writeReturning(this.db, () => failed.get());
  }

  /** The subscription goes with its delivery log and whatever the ledger still owes it. */
  remove(id: string): void {
    this.db.$client.transaction(() => {
      this.db.delete(webhookDeliveries).where(eq(webhookDeliveries.subscriptionId, id)).run();
      this.db.delete(owedDeliveries).where(eq(owedDeliveries.subscriptionId, id)).run();
      this.db.delete(webhookSubscriptions).where(eq(webhookSubscriptions.id, id)).run();
    })();
  }

  /** The partner's subscriptions (or the one with `id`) beside their creating key, oldest first. */
  withCreators(partnerId: string, id?: string): SubscriptionWithCreator[] {
    const partner = eq(webhookSubscriptions.partnerId, partnerId);
    return this.db
      .select({ subscription: webhookSubscriptions, creatorScopes: apiKeys.scopes, creatorRevokedAt: apiKeys.revokedAt })
      .from(webhookSubscriptions)
      .innerJoin(apiKeys, eq(apiKeys.id, webhookSubscriptions.keyId))
      .where(id === undefined ? partner : and(partner, eq(webhookSubscriptions.id, id)))
      .orderBy(webhookSubscriptions.createdAt, webhookSubscriptions.id)
      .all();
  }

  /** Every subscription of the partner, whoever created it (the conformance probe's pick). */
  ofPartner(partnerId: string): SubscriptionRow[] {
    return this.db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.partnerId, partnerId)).all();
  }

  /** One page of the delivery log, newest attempt first, before delivery id `before` when given. */
  deliveryPage(id: string, first: number, before: number | null): DeliveryRow[] {
    const where = before !== null ? and(eq(webhookDeliveries.subscriptionId, id), lt(webhookDeliveries.id, before)) : eq(webhookDeliveries.subscriptionId, id);
    return this.db.select().from(webhookDeliveries).where(where).orderBy(desc(webhookDeliveries.id)).limit(first).all();
  }

  /** The PENDING first attempt of a test event (no sequence), logged before its job is queued. */
  logTestAttempt(subscriptionId: string, testEventId: string, testTime: string): DeliveryRow {
    return inTransaction(this.db, () =>
      this.db
        .insert(webhookDeliveries)
        .values({ subscriptionId, eventId: testEventId, sequence: null, eventTime: testTime, attempt: 1, status: "PENDING", createdAt: testTime })
        .returning()
        .get(),
    );
  }
}
