/**
 * V2023 card numbers: 18 characters, 9 PP NNN YYYYMMDD SSS C (province, ISO numeric nationality,
 * birth date, sequence, ISO 7064 MOD 11-2 check character).
 */
import { findCountryByNumericIndex, isExcludedNationality } from "./countries.ts";
import { findProvinceByIndex } from "./provinces.ts";
import { allDigits, isDigitOrX, num } from "./card-number-chars.ts";
import { isRealDate } from "../china-date.ts";
import { MIN_BIRTH_KEY, todayKey } from "./card-number-dates.ts";
import { result, type CardNumberError, type ParsedCardNumber, type Sex } from "./card-number-result.ts";

// ---------------------------------------------------------------------------------------------
// Check character (ISO 7064 MOD 11-2, as GB 11643 citizen ID numbers)

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = "10X98765432";

/** Caller guarantees positions 0..16 of `s` are ASCII digits. Returns the char code of the check character. */
function checkCharCode(s: string): number {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (s.charCodeAt(i) - 48) * WEIGHTS[i];
  return CHECK_CHARS.charCodeAt(sum % 11);
}

/** ISO 7064 MOD 11-2 check character ("0"–"9" or "X") for exactly 17 ASCII digits. */
export function computeV2023CheckCharacter(first17Digits: string): string {
  if (first17Digits.length !== 17 || !allDigits(first17Digits, 0, 17)) {
    throw new RangeError("computeV2023CheckCharacter expects exactly 17 ASCII digits");
  }
  return String.fromCharCode(checkCharCode(first17Digits));
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** For an 18-character [0-9A-Z] string: "9", 16 more digits, then a digit or X. */
export function isV2023Shape(s: string): boolean {
  return s.charCodeAt(0) === 57 /* 9 */ && isDigitOrX(s.charCodeAt(17)) && allDigits(s, 1, 17);
}

/**
 * Caller guarantees isV2023Shape(s). Reports every failing part, fills in every part that passed.
 *
 * The checks stay inline on purpose: split into smaller steps, this function gets inlined into its
 * caller, V8's inlining budget runs out before the helpers it calls (num, isRealDate, result…) and
 * parsing measured 5–10% slower.
 */
export function parseV2023(input: string, s: string, today: Date): ParsedCardNumber {
  let errors: CardNumberError[] | null = null;

  const province = findProvinceByIndex(num(s, 1, 3));
  if (province === null) (errors ??= []).push(unknownProvinceError(s));

  const nationality = findCountryByNumericIndex(num(s, 3, 6));
  if (nationality === null) (errors ??= []).push(unknownNationalityError(s));

  let birthDate: string | null = null;
  const y = num(s, 6, 10);
  const m = num(s, 10, 12);
  const d = num(s, 12, 14);
  if (!isRealDate(y, m, d)) {
    (errors ??= []).push({
      code: "BAD_BIRTH_DATE",
      message: `Positions 7–14 ("${s.slice(6, 14)}") are not a real calendar date (YYYYMMDD).`,
    });
  } else {
    const key = y * 10_000 + m * 100 + d;
    const iso = `${s.slice(6, 10)}-${s.slice(10, 12)}-${s.slice(12, 14)}`;
    if (key < MIN_BIRTH_KEY) {
      (errors ??= []).push({ code: "BAD_BIRTH_DATE", message: `The birth date ${iso} is before 1900-01-01.` });
    } else if (key > todayKey(today)) {
      (errors ??= []).push({ code: "BAD_BIRTH_DATE", message: `The birth date ${iso} is in the future.` });
    } else {
      birthDate = iso;
    }
  }

  if (checkCharCode(s) !== s.charCodeAt(17)) {
    (errors ??= []).push({
      code: "BAD_CHECK_DIGIT",
      message:
        "The check character (position 18) does not match the first 17 digits; a character was probably mistyped.",
    });
  }

  const sex: Sex = (s.charCodeAt(16) - 48) % 2 === 1 ? "MALE" : "FEMALE";
  return result(input, s, "V2023", nationality, province, birthDate, sex, errors ?? []);
}

function unknownProvinceError(s: string): CardNumberError {
  return {
    code: "UNKNOWN_PROVINCE",
    message: `Positions 2–3 ("${s.slice(1, 3)}") are not a province-level region code (GB/T 2260).`,
  };
}

function unknownNationalityError(s: string): CardNumberError {
  const code = s.slice(3, 6);
  return {
    code: "UNKNOWN_NATIONALITY",
    message: isExcludedNationality(code)
      ? `Positions 4–6 ("${code}") are the code of China; a Foreign Permanent Resident card is never issued to a Chinese national.`
      : `Positions 4–6 ("${code}") are not an ISO 3166-1 numeric country code.`,
  };
}
