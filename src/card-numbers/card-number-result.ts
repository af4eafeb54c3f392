/**
 * What parsing a card number gives, and the builders the parsers share. A leaf: the parsers and
 * card-number.ts import it, it imports none of them.
 */
import type { Country } from "./countries.ts";
import type { Province } from "./provinces.ts";

export type CardVersion = "V2017" | "V2023";
export type Sex = "MALE" | "FEMALE";
export type CardNumberErrorCode =
  | "EMPTY"
  | "BAD_CHARACTERS"
  | "WRONG_LENGTH"
  | "NOT_FOREIGNER_NUMBER"
  | "UNKNOWN_PROVINCE"
  | "UNKNOWN_NATIONALITY"
  | "BAD_BIRTH_DATE"
  | "BAD_CHECK_DIGIT";

export interface CardNumberError {
  code: CardNumberErrorCode;
  message: string;
}

export interface ParsedCardNumber {
  /** Exactly what was given. */
  input: string;
  /** Normalized form (see normalizeCardNumber); null only when EMPTY. */
  normalized: string | null;
  /** errors.length === 0 */
  valid: boolean;
  /** Set when the shape is V2017 or V2023, even if other checks fail. */
  version: CardVersion | null;
  /** Each decoded part is set only when it passed its own check. */
  nationality: Country | null;
  province: Province | null;
  /** YYYY-MM-DD */
  birthDate: string | null;
  /** V2023 only, informational: parity of digit 17 (odd male, even female), unconfirmed for FPR cards. */
  sex: Sex | null;
  errors: CardNumberError[];
}

export function result(
  input: string,
  normalized: string | null,
  version: CardVersion | null,
  nationality: Country | null,
  province: Province | null,
  birthDate: string | null,
  sex: Sex | null,
  errors: CardNumberError[],
): ParsedCardNumber {
  return { input, normalized, valid: errors.length === 0, version, nationality, province, birthDate, sex, errors };
}

/** A result with a single error and no decoded part. */
export function fail(input: string, normalized: string | null, code: CardNumberErrorCode, message: string): ParsedCardNumber {
  return result(input, normalized, null, null, null, null, null, [{ code, message }]);
}
