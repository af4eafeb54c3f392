import { and, eq, sql } from "drizzle-orm";
import type { HubDb } from "../db/client.ts";
import { cards, events, holders } from "../db/schema.ts";

const p = sql.placeholder;
const instance = and(eq(cards.number, p("number")), eq(cards.issueCount, p("issueCount")));

/** The register's writes, prepared once: building and preparing SQL per call dominated bulk loads. */
export function prepareRegisterStatements(db: HubDb) {
  return {
    insertHolder: db
      .insert(holders)
      .values({
        status: "ACTIVE",
        statusChangedAt: p("at"),
        currentNumber: p("number"),
        createdAt: p("at"),
        currentVersion: p("version"),
        provinceCode: p("provinceCode"),
        nationality: p("nationality"),
        since: p("validFrom"),
        v2023Since: p("v2023Since"),
      })
      .returning({ id: holders.id })
      .prepare(),
    setHolderNames: db
      .update(holders)
      .set({ englishNameDigest: sql`${p("english")}`, chineseNameDigest: sql`coalesce(${p("chinese")}, ${holders.chineseNameDigest})` })
      .where(eq(holders.id, p("id")))
      .prepare(),
    /** A V2017 → V2023 switch: the holder's current card, and the facts the rollout figures use. */
    setHolderCurrent: db
      .update(holders)
      .set({
        currentNumber: sql`${p("number")}`,
        currentVersion: sql`${p("version")}`,
        provinceCode: sql`${p("provinceCode")}`,
        nationality: sql`${p("nationality")}`,
        v2023Since: sql`coalesce(${holders.v2023Since}, ${p("validFrom")})`,
      })
      .where(eq(holders.id, p("id")))
      .prepare(),
    setHolderStatus: db
      .update(holders)
      .set({ status: sql`${p("status")}`, statusChangedAt: sql`${p("at")}`, statusReason: sql`${p("reason")}` })
      .where(eq(holders.id, p("id")))
      .prepare(),
    insertCard: db
      .insert(cards)
      .values({
        number: p("number"),
        issueCount: p("issueCount"),
        version: p("version"),
        holderId: p("holderId"),
        state: p("state"),
        validFrom: p("validFrom"),
        validUntil: p("validUntil"),
        stateChangedAt: p("stateChangedAt"),
        previousNumber: p("previousNumber"),
        provinceCode: p("provinceCode"),
        nationality: p("nationality"),
        birthDate: p("birthDate"),
        sex: p("sex"),
        issueDigest: p("issueDigest"),
        createdAt: p("at"),
      })
      .prepare(),
    setCardState: db.update(cards).set({ state: sql`${p("state")}`, stateChangedAt: sql`${p("at")}` }).where(instance).prepare(),
    setRevocationReason: db.update(cards).set({ revocationReason: sql`${p("reason")}` }).where(instance).prepare(),
    issueDigestOf: db.select({ issueDigest: cards.issueDigest }).from(cards).where(instance).prepare(),
    revocationReasonOf: db.select({ reason: cards.revocationReason }).from(cards).where(instance).prepare(),
    insertEvent: db
      .insert(events)
      .values({
        type: p("type"),
        cardNumber: p("cardNumber"),
        issueCount: p("issueCount"),
        holderId: p("holderId"),
        occurredAt: p("occurredAt"),
        data: p("data"),
      })
      .returning({ sequence: events.sequence })
      .prepare(),
  };
}

export type RegisterStatements = ReturnType<typeof prepareRegisterStatements>;
