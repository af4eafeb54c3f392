/** Builders of ParsedCardNumber values, shared by the parsers. */
import type { Country } from "./countries.ts";
import type { Province } from "./provinces.ts";
import type { CardNumberError, CardNumberErrorCode, CardVersion, ParsedCardNumber, Sex } from "./card-number.ts";

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
