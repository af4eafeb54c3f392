import type { Statement } from "better-sqlite3";
import type { CardState, EventType, HolderStatus } from "../db/column-types.ts";
import type { HubDb } from "../db/client.ts";

interface Instance {
  number: string;
  issueCount: number;
}

/** A new holder, with the facts the rollout figures use and the name digests. */
interface NewHolder {
  at: string;
  number: string;
  version: string;
  provinceCode: string;
  nationality: string;
  validFrom: string;
  v2023Since: string | null;
  english: string | null;
  chinese: string | null;
}

interface NewCard extends Instance {
  version: string;
  holderId: number;
  state: CardState;
  validFrom: string;
  validUntil: string;
  stateChangedAt: string;
  previousNumber: string | null;
  provinceCode: string;
  nationality: string;
  birthDate: string;
  sex: string | null;
  issueDigest: string;
  at: string;
}

/**
 * The register's writes, prepared once as plain SQL over the tables of src/db/schema.ts: building
 * SQL per call, and drizzle's parameter filling, dominated bulk loads.
 */
export function prepareRegisterStatements(db: HubDb) {
  const sql = db.$client;
  return {
    insertHolder: sql.prepare(`
      INSERT INTO holders (status, status_changed_at, current_number, created_at, current_version, province_code, nationality, since, v2023_since,
                           english_name_digest, chinese_name_digest)
      VALUES ('ACTIVE', @at, @number, @at, @version, @provinceCode, @nationality, @validFrom, @v2023Since, @english, @chinese)
      RETURNING id`) as Statement<[NewHolder], { id: number }>,
    setHolderNames: sql.prepare(`
      UPDATE holders SET english_name_digest = @english, chinese_name_digest = coalesce(@chinese, chinese_name_digest)
      WHERE id = @id`) as Statement<[{ id: number; english: string; chinese: string | null }]>,
    /** A V2017 → V2023 switch: the holder's current card, and the facts the rollout figures use. */
    setHolderCurrent: sql.prepare(`
      UPDATE holders SET current_number = @number, current_version = @version, province_code = @provinceCode, nationality = @nationality,
                         v2023_since = coalesce(v2023_since, @validFrom)
      WHERE id = @id`) as Statement<[{ id: number; number: string; version: string; provinceCode: string; nationality: string; validFrom: string }]>,
    setHolderStatus: sql.prepare("UPDATE holders SET status = @status, status_changed_at = @at, status_reason = @reason WHERE id = @id") as Statement<
      [{ id: number; status: HolderStatus; at: string; reason: string | null }]
    >,
    insertCard: sql.prepare(`
      INSERT INTO cards (number, issue_count, version, holder_id, state, valid_from, valid_until, state_changed_at, previous_number,
                         province_code, nationality, birth_date, sex, issue_digest, created_at)
      VALUES (@number, @issueCount, @version, @holderId, @state, @validFrom, @validUntil, @stateChangedAt, @previousNumber,
              @provinceCode, @nationality, @birthDate, @sex, @issueDigest, @at)`) as Statement<[NewCard]>,
    setCardState: sql.prepare("UPDATE cards SET state = @state, state_changed_at = @at WHERE number = @number AND issue_count = @issueCount") as Statement<
      [Instance & { state: CardState; at: string }]
    >,
    setRevocationReason: sql.prepare("UPDATE cards SET revocation_reason = @reason WHERE number = @number AND issue_count = @issueCount") as Statement<
      [Instance & { reason: string }]
    >,
    issueDigestOf: sql.prepare("SELECT issue_digest AS issueDigest FROM cards WHERE number = @number AND issue_count = @issueCount") as Statement<
      [Instance],
      { issueDigest: string }
    >,
    revocationReasonOf: sql.prepare("SELECT revocation_reason AS reason FROM cards WHERE number = @number AND issue_count = @issueCount") as Statement<
      [Instance],
      { reason: string | null }
    >,
    insertEvent: sql.prepare(`
      INSERT INTO events (type, card_number, issue_count, holder_id, occurred_at, data)
      VALUES (@type, @cardNumber, @issueCount, @holderId, @occurredAt, @data)
      RETURNING sequence`) as Statement<[{ type: EventType; cardNumber: string; issueCount: number; holderId: number; occurredAt: string; data: string }], { sequence: number }>,
  };
}

export type RegisterStatements = ReturnType<typeof prepareRegisterStatements>;
