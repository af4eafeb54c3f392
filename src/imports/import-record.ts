import type { IssueCardData } from "../cards/card-issuing.ts";
import { HOLDER_STATUSES, type HolderStatus } from "../cards/card-state.ts";
import { HubError } from "../errors.ts";

/**
 * One line of an import file: a card instance with the fields of `issueCard`, plus optional
 * state changes applied after it (loss report, revocation, holder status).
 */
export interface ImportRecord {
  card: IssueCardData & { issueCount: number };
  state: "VALID" | "REPORTED_LOST" | "REVOKED";
  revocationReason: string | null;
  holderStatus: HolderStatus | null;
}

export const RECORD_FIELDS = [
  "number",
  "issueCount",
  "validFrom",
  "validUntil",
  "previousNumber",
  "englishName",
  "chineseName",
  "sex",
  "state",
  "revocationReason",
  "holderStatus",
] as const;

const STATES = ["VALID", "REPORTED_LOST", "REVOKED"];

/**
 * A record the import layer itself refuses. Its messages are built from field names and constants
 * only, never from the file's text, so the rejects file may quote them (see import-rejects.ts).
 */
export class RecordError extends HubError {
  constructor(message: string, field?: (typeof RECORD_FIELDS)[number]) {
    super("BAD_USER_INPUT", message, field ? { field } : {});
  }
}

function bad(message: string, field?: (typeof RECORD_FIELDS)[number]): HubError {
  return new RecordError(message, field);
}

type Field = (typeof RECORD_FIELDS)[number];

function text(raw: Record<string, unknown>, field: Field, required: boolean): string | null {
  const value = raw[field];
  if (value === undefined || value === null || value === "") {
    if (required) throw bad(`${field} is required`, field);
    return null;
  }
  if (typeof value !== "string") throw bad(`${field} must be a string`, field);
  return value;
}

function issueCountOf(raw: Record<string, unknown>): number {
  const value = raw.issueCount;
  if (value === undefined || value === null || value === "") return 0;
  const count = typeof value === "string" && /^\d{1,3}$/.test(value) ? Number(value) : value;
  if (typeof count !== "number" || !Number.isInteger(count)) throw bad("issueCount must be a whole number", "issueCount");
  return count;
}

function oneOf<T extends string>(raw: Record<string, unknown>, field: Field, allowed: readonly T[]): T | null {
  const value = text(raw, field, false);
  if (value !== null && !allowed.includes(value as T)) throw bad(`${field} must be one of ${allowed.join(", ")}`, field);
  return value as T | null;
}

/** Validates the shape of one record; the register's own rules run when it is applied. */
export function toImportRecord(raw: unknown): ImportRecord {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw bad("a record must be a JSON object");
  const fields = raw as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !(RECORD_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) throw bad(`the record has a field that is not one of: ${RECORD_FIELDS.join(", ")}`);
  const state = oneOf(fields, "state", STATES as ("VALID" | "REPORTED_LOST" | "REVOKED")[]) ?? "VALID";
  const revocationReason = text(fields, "revocationReason", state === "REVOKED");
  return {
    card: {
      number: text(fields, "number", true)!,
      issueCount: issueCountOf(fields),
      validFrom: text(fields, "validFrom", true)!,
      validUntil: text(fields, "validUntil", true)!,
      previousNumber: text(fields, "previousNumber", false),
      englishName: text(fields, "englishName", true)!,
      chineseName: text(fields, "chineseName", false),
      sex: oneOf(fields, "sex", ["MALE", "FEMALE"] as const),
    },
    state,
    revocationReason,
    holderStatus: oneOf(fields, "holderStatus", HOLDER_STATUSES),
  };
}
