import { ERROR_CODES, type ErrorCode, type HubError } from "../errors.ts";
import { RECORD_FIELDS, RecordError } from "./import-record.ts";

/**
 * One rejected line as the rejects file gives it: the line number, the error code, the field when
 * it is one of the record's, the card-number error codes, and a fixed message. Nothing from the
 * file is ever copied into it (no names, numbers, dates or field names the file made up), so a
 * rejects file is safe to keep, mail or open in a spreadsheet.
 */
export interface Reject {
  line: number;
  code: ErrorCode;
  message: string;
  field?: string;
  errors?: { code: string }[];
}

/** Messages by code for errors raised by the register's rules (theirs may quote the record). */
function fixedMessage(code: ErrorCode, field: string | undefined): string {
  switch (code) {
    case "INVALID_CARD_NUMBER":
      return `${field ?? "number"} is not a valid card number (errors says why)`;
    case "BAD_USER_INPUT":
      return field ? `${field} is not valid for this record` : "the record is not valid";
    case "CONFLICT":
      return "the record conflicts with the register (this instance exists with other details, is revoked, or the holder's status is final)";
    case "NOT_FOUND":
      return field ? `${field} is not on the register` : "the card is not on the register";
    default:
      return "the record was refused";
  }
}

/** A spreadsheet reads a cell starting with = + - @ tab or CR as a formula: such text gets a leading '. */
function neutralizeFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

const NUMBER_ERROR = /^[A-Z_]{1,40}$/;

function numberErrorCodes(errors: unknown): { code: string }[] | undefined {
  if (!Array.isArray(errors)) return undefined;
  const codes = errors.map((e) => (e as { code?: unknown })?.code).filter((c): c is string => typeof c === "string" && NUMBER_ERROR.test(c));
  return codes.length > 0 ? codes.map((code) => ({ code })) : undefined;
}

/** The register's rules name some fields as the GraphQL mutations do; the record has its own names. */
const MUTATION_FIELDS: Readonly<Record<string, string>> = { reason: "revocationReason", status: "holderStatus" };

function recordField(raw: unknown): string | undefined {
  if (typeof raw !== "string") return undefined;
  const field = Object.hasOwn(MUTATION_FIELDS, raw) ? MUTATION_FIELDS[raw] : raw;
  return (RECORD_FIELDS as readonly string[]).includes(field) ? field : undefined;
}

export function rejectOf(line: number, error: HubError): Reject {
  const field = recordField(error.extensions.field);
  const code = ERROR_CODES.includes(error.code) ? error.code : "BAD_USER_INPUT";
  const message = error instanceof RecordError ? error.message : fixedMessage(code, field);
  const errors = numberErrorCodes(error.extensions.errors);
  return {
    line,
    code,
    message: neutralizeFormula(message),
    ...(field ? { field: neutralizeFormula(field) } : {}),
    ...(errors ? { errors } : {}),
  };
}

/** One line of the rejects file (NDJSON). */
export function rejectLine(reject: Reject): string {
  return `${JSON.stringify(reject)}\n`;
}
