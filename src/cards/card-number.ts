/**
 * Parsing and validation of Foreign Permanent Resident ID Card numbers (see /work/shared/domain.md).
 *
 *   V2023: 18 characters  9 PP NNN YYYYMMDD SSS C   (province, ISO numeric nationality, birth date,
 *          sequence, ISO 7064 MOD 11-2 check character)
 *   V2017: 15 characters  AAA PPxx YYMMDD S C        (ISO alpha-3 nationality, acceptance place whose
 *          first two digits are the province, birth date, sequence, check digit)
 *
 * This runs for every card lookup, so the hot path works on char codes: no per-call regexes, no
 * intermediate arrays, and already-clean input is returned without copying.
 */
import {
  findCountryByAlpha3,
  findCountryByNumericIndex,
  isExcludedNationality,
  type Country,
} from "./countries.ts";
import { findProvinceByIndex, type Province } from "./provinces.ts";

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

// ---------------------------------------------------------------------------------------------
// Normalization

/**
 * Removed after NFKC (which has already folded full-width and small forms):
 * - whitespace: \s covers U+3000 ideographic space, NBSP, BOM and the other Unicode spaces;
 * - hyphens/dashes: - ‐ ‑ ‒ – — ― − ﹘ ﹣ －;
 * - invisible formatting characters that copy-paste brings along: soft hyphen, zero-width
 *   space/joiners, word joiner, and bidi marks/embeddings/isolates (LRM, RLM, ALM, U+202A–E, U+2066–9).
 */
const STRIP_RE =
  /[\s\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\u2010-\u2015\u2212\uFE58\uFE63\uFF0D-]+/g;
const ASCII_LOWER_RE = /[a-z]+/g;
const toUpper = (s: string): string => s.toUpperCase();

/**
 * NFKC (full-width digits/letters → ASCII), remove whitespace and hyphens/dashes, upper-case ASCII
 * letters. Idempotent. Non-ASCII letters are kept (and then rejected as BAD_CHARACTERS) rather than
 * case-mapped, so e.g. the dotless "ı" never turns into an "I".
 */
export function normalizeCardNumber(input: string): string {
  const n = input.length;
  let i = 0;
  // Fast path 1: already [0-9A-Z]; return the same string.
  for (; i < n; i++) {
    const c = input.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90))) break;
  }
  if (i === n) return input;
  // Fast path 2: ASCII only (NFKC is the identity on ASCII): drop spaces/hyphens, upper-case.
  let out = input.slice(0, i);
  for (; i < n; i++) {
    const c = input.charCodeAt(i);
    if (c >= 128) return normalizeSlow(input);
    if (c === 32 || c === 45 || (c >= 9 && c <= 13)) continue;
    out += String.fromCharCode(c >= 97 && c <= 122 ? c - 32 : c);
  }
  return out;
}

function normalizeSlow(input: string): string {
  const s = input.normalize("NFKC").replace(STRIP_RE, "").replace(ASCII_LOWER_RE, toUpper);
  // Removing a character can leave a base letter next to a combining mark that NFKC would now
  // compose ("e-\u0301" → "e\u0301"); a second NFKC makes the result a fixed point.
  return s.normalize("NFKC");
}

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
// Dates

// Birth dates are calendar dates in China: "today" is the date in China Standard Time (UTC+8, no
// daylight saving) at the given instant.
const CHINA_OFFSET_MS = 8 * 3_600_000;
const MS_PER_DAY = 86_400_000;
const MIN_BIRTH_KEY = 19000101;

let cachedDay = Number.NaN;
let cachedTodayKey = 0;

/** Today's date in China as YYYYMMDD (a number), cached per day so the hot path allocates nothing. */
function todayKey(today: Date | undefined): number {
  const ms = today === undefined ? Date.now() : today.getTime();
  if (Number.isNaN(ms)) throw new RangeError("parseCardNumber: `today` is an invalid Date");
  const day = Math.floor((ms + CHINA_OFFSET_MS) / MS_PER_DAY);
  if (day !== cachedDay) {
    // Days since 1970-01-01 → civil date (H. Hinnant's algorithm).
    const z = day + 719_468;
    const era = Math.floor(z / 146_097);
    const doe = z - era * 146_097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const m = mp < 10 ? mp + 3 : mp - 9;
    const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    cachedDay = day;
    cachedTodayKey = y * 10_000 + m * 100 + d;
  }
  return cachedTodayKey;
}

function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  if (m === 2) return d <= ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28);
  return d <= (m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31);
}

// ---------------------------------------------------------------------------------------------
// Helpers

function allDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function allLetters(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/** Value of the ASCII digits s[from..to). Caller guarantees they are digits. */
function num(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  return v;
}

function result(
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

function fail(input: string, normalized: string | null, code: CardNumberErrorCode, message: string): ParsedCardNumber {
  return result(input, normalized, null, null, null, null, null, [{ code, message }]);
}

/** Characters that must not be shown as themselves: controls, format (bidi, zero-width), separators, lone marks, unassigned. */
const UNPRINTABLE_RE = /^[\p{C}\p{Z}\p{M}]$/u;

function describeChar(cp: number): string {
  const hex = "U+" + cp.toString(16).toUpperCase().padStart(4, "0");
  const ch = String.fromCodePoint(cp);
  return UNPRINTABLE_RE.test(ch) ? `an invisible or control character (${hex})` : `"${ch}" (${hex})`;
}

const CARD_LENGTHS = "Foreign Permanent Resident card numbers have 15 characters (2017 card) or 18 (2023 card)";

// ---------------------------------------------------------------------------------------------
// Parsing

/**
 * Normalizes and validates a card number. Never throws for any string input (only for an invalid
 * `today` Date). `today` defaults to now; birth dates after today's date in China are rejected.
 */
export function parseCardNumber(input: string, today?: Date): ParsedCardNumber {
  const s = normalizeCardNumber(input);
  const len = s.length;
  if (len === 0) return fail(input, null, "EMPTY", "No card number was given.");

  // One pass: reject anything outside [0-9A-Z].
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90)) continue;
    // Error path only: position counted in code points, 1-based. Everything before i is ASCII.
    return fail(
      input,
      s,
      "BAD_CHARACTERS",
      `Card numbers contain only Latin letters and digits, but character ${i + 1} is ${describeChar(s.codePointAt(i) as number)}.`,
    );
  }

  if (len === 18) return parse18(input, s, today);
  if (len === 15) return parse15(input, s, today);

  // Passport-like: 1–2 letters followed by 6–9 digits (E12345678, G1234567, PA1234567…).
  if (len >= 7 && len <= 11) {
    const letters = allLetters(s, 0, 2) ? 2 : allLetters(s, 0, 1) ? 1 : 0;
    const digits = len - letters;
    if (letters > 0 && digits >= 6 && digits <= 9 && allDigits(s, letters, len)) {
      return fail(
        input,
        s,
        "NOT_FOREIGNER_NUMBER",
        "This looks like a passport or travel-permit number (1–2 letters followed by 6–9 digits), not a Foreign Permanent Resident card number, which has 15 characters (2017 card) or 18 (2023 card).",
      );
    }
  }
  return fail(
    input,
    s,
    "WRONG_LENGTH",
    `The number has ${len} character${len === 1 ? "" : "s"}; ${CARD_LENGTHS}.`,
  );
}

function parse18(input: string, s: string, today: Date | undefined): ParsedCardNumber {
  const last = s.charCodeAt(17);
  const first17Digits = allDigits(s, 0, 17);
  if (!first17Digits) {
    return fail(
      input,
      s,
      "NOT_FOREIGNER_NUMBER",
      "This 18-character value contains letters, so it is not a Foreign Permanent Resident card number (2023 card numbers are 17 digits followed by a digit or X); it may be another kind of code, such as an organization's unified social credit code.",
    );
  }
  if (!((last >= 48 && last <= 57) || last === 88)) {
    return fail(
      input,
      s,
      "NOT_FOREIGNER_NUMBER",
      `This is not a Foreign Permanent Resident card number: an 18-character card number ends with a digit or X, not "${s[17]}".`,
    );
  }
  const first = s.charCodeAt(0);
  if (first !== 57 /* 9 */) {
    if (s.charCodeAt(1) >= 49 && s.charCodeAt(1) <= 51 && first === 56 && num(s, 2, 6) === 0) {
      const region = s.charCodeAt(1) === 49 ? "Hong Kong" : s.charCodeAt(1) === 50 ? "Macao" : "Taiwan";
      return fail(
        input,
        s,
        "NOT_FOREIGNER_NUMBER",
        `This is a residence permit number for ${region} residents (it starts with ${s.slice(0, 6)}), not a Foreign Permanent Resident card number.`,
      );
    }
    if (first >= 49 && first <= 56) {
      return fail(
        input,
        s,
        "NOT_FOREIGNER_NUMBER",
        "This is a Chinese citizen ID number (18 digits starting with 1–8), not a Foreign Permanent Resident card number; 2023 card numbers start with 9.",
      );
    }
    return fail(
      input,
      s,
      "NOT_FOREIGNER_NUMBER",
      "This 18-digit number starts with 0, so it is not a Foreign Permanent Resident card number (2023 card numbers start with 9) nor a Chinese citizen ID number (1–8).",
    );
  }

  // V2023 shape: report every failing part, fill in every part that passed.
  let errors: CardNumberError[] | null = null;

  const province = findProvinceByIndex(num(s, 1, 3));
  if (province === null) {
    (errors ??= []).push({
      code: "UNKNOWN_PROVINCE",
      message: `Positions 2–3 ("${s.slice(1, 3)}") are not a province-level region code (GB/T 2260).`,
    });
  }

  const nationality = findCountryByNumericIndex(num(s, 3, 6));
  if (nationality === null) {
    const code = s.slice(3, 6);
    (errors ??= []).push({
      code: "UNKNOWN_NATIONALITY",
      message: isExcludedNationality(code)
        ? `Positions 4–6 ("${code}") are the code of China; a Foreign Permanent Resident card is never issued to a Chinese national.`
        : `Positions 4–6 ("${code}") are not an ISO 3166-1 numeric country code.`,
    });
  }

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

  if (checkCharCode(s) !== last) {
    (errors ??= []).push({
      code: "BAD_CHECK_DIGIT",
      message:
        "The check character (position 18) does not match the first 17 digits; a character was probably mistyped.",
    });
  }

  const sex: Sex = (s.charCodeAt(16) - 48) % 2 === 1 ? "MALE" : "FEMALE";
  return result(input, s, "V2023", nationality, province, birthDate, sex, errors ?? []);
}

function parse15(input: string, s: string, today: Date | undefined): ParsedCardNumber {
  if (!allLetters(s, 0, 3) || !allDigits(s, 3, 15)) {
    if (allDigits(s, 0, 15)) {
      return fail(
        input,
        s,
        "NOT_FOREIGNER_NUMBER",
        "This looks like a first-generation (15-digit) Chinese citizen ID number, not a Foreign Permanent Resident card number; 2017 card numbers are 3 letters followed by 12 digits.",
      );
    }
    return fail(
      input,
      s,
      "NOT_FOREIGNER_NUMBER",
      "This 15-character value does not have the shape of a 2017 Foreign Permanent Resident card number (3 letters for the nationality followed by 12 digits).",
    );
  }

  let errors: CardNumberError[] | null = null;

  const a3 = s.slice(0, 3);
  const nationality = findCountryByAlpha3(a3);
  if (nationality === null) {
    (errors ??= []).push({
      code: "UNKNOWN_NATIONALITY",
      message: isExcludedNationality(a3)
        ? `The first three letters ("${a3}") are the code of China; a Foreign Permanent Resident card is never issued to a Chinese national.`
        : `The first three letters ("${a3}") are not an ISO 3166-1 alpha-3 country code.`,
    });
  }

  const province = findProvinceByIndex(num(s, 3, 5));
  if (province === null) {
    (errors ??= []).push({
      code: "UNKNOWN_PROVINCE",
      message: `The acceptance-place code (positions 4–7, "${s.slice(3, 7)}") does not start with a province-level region code (GB/T 2260).`,
    });
  }

  // YYMMDD: 20YY if that is a real date not after today, else 19YY.
  let birthDate: string | null = null;
  const yy = num(s, 7, 9);
  const m = num(s, 9, 11);
  const d = num(s, 11, 13);
  let year = 0;
  if (isRealDate(2000 + yy, m, d) && (2000 + yy) * 10_000 + m * 100 + d <= todayKey(today)) year = 2000 + yy;
  else if (isRealDate(1900 + yy, m, d)) year = 1900 + yy;
  if (year === 0) {
    (errors ??= []).push({
      code: "BAD_BIRTH_DATE",
      message: `Positions 8–13 ("${s.slice(7, 13)}") are not a real calendar date (YYMMDD).`,
    });
  } else {
    birthDate = `${year}-${s.slice(9, 11)}-${s.slice(11, 13)}`;
  }

  // Position 15 is a check digit, but its algorithm is not published (and the per-position split
  // comes from card-reader vendor code): unconfirmed, so it is deliberately not verified. If the
  // algorithm becomes known, add the check here (BAD_CHECK_DIGIT) and nowhere else.
  return result(input, s, "V2017", nationality, province, birthDate, null, errors ?? []);
}
