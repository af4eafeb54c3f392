import type { Scope } from "../partners/roles.ts";

/**
 * The one home of the rule "which events may a reader see", as SQL fragments used by the change
 * feed, the webhook fan-out, replays and the re-check at every delivery attempt.
 *
 * A reader sees every event when it may see all (EVENTS_ALL, or a role that is not PARTNER).
 * Otherwise it sees the events whose card number its partner watches (watched_numbers): renewals
 * keep the number, so they are followed; a V2017 card's `card.superseded` is seen, nothing of the
 * new V2023 number is. A reader with LINEAGE_READ also sees every event of a holder who has a card
 * whose number its partner watches: the watch follows the V2017 → V2023 switch.
 */

/** SQL expressions naming the event being judged. */
export interface EventSql {
  cardNumber: string;
  holderId: string;
}

/** SQL expressions naming the reader: truthy when it sees all / may read lineage, and its partner. */
export interface ReaderSql {
  seesAll: string;
  lineage: string;
  partnerId: string;
}

/** SQL: the key `k` (an api_keys alias) is unrevoked and carries `scope`. */
function keyHasScopeSql(k: string, scope: Scope): string {
  return `(${k}.revoked_at IS NULL AND instr(',' || ${k}.scopes || ',', ',${scope},') > 0)`;
}

/** A subscription `s` reads with the scopes of the key `k` that created it (while unrevoked). */
function subscriptionReaderSql(s = "s", k = "k"): ReaderSql {
  return { seesAll: keyHasScopeSql(k, "EVENTS_ALL"), lineage: keyHasScopeSql(k, "LINEAGE_READ"), partnerId: `${s}.partner_id` };
}

/** SQL condition: the reader may see the event. */
export function eventVisibleSql(event: EventSql, reader: ReaderSql): string {
  return `(${reader.seesAll}
    OR EXISTS (SELECT 1 FROM watched_numbers vw WHERE vw.partner_id = ${reader.partnerId} AND vw.number = ${event.cardNumber})
    OR (${reader.lineage} AND EXISTS (
      SELECT 1 FROM cards vc JOIN watched_numbers vl ON vl.partner_id = ${reader.partnerId} AND vl.number = vc.number
      WHERE vc.holder_id = ${event.holderId})))`;
}

/**
 * SQL condition: subscription `s` named the event's type and may see the event. It reads with its
 * creating key `k`: once that key is revoked (or gone) it receives nothing, so a stolen key's
 * subscription dies with the key.
 */
export function subscriptionReceivesSql(event: EventSql & { type: string }, s = "s", k = "k"): string {
  return `(${k}.id IS NOT NULL AND ${k}.revoked_at IS NULL
    AND instr(',' || ${s}.event_types || ',', ',' || ${event.type} || ',') > 0 AND ${eventVisibleSql(event, subscriptionReaderSql(s, k))})`;
}
