/**
 * Values that are not Foreign Permanent Resident card numbers but are often typed in their place
 * (citizen IDs, residence permits, passports, credit codes): each gets a NOT_FOREIGNER_NUMBER or
 * WRONG_LENGTH error that says what the value looks like instead.
 */
import { allDigits, allLetters, isDigitOrX, num } from "./card-number-chars.ts";
import { fail, type ParsedCardNumber } from "./card-number-result.ts";

const CARD_LENGTHS = "Foreign Permanent Resident card numbers have 15 characters (2017 card) or 18 (2023 card)";

/** An 18-character [0-9A-Z] string that is not V2023-shaped (see isV2023Shape). */
export function classifyOther18(input: string, s: string): ParsedCardNumber {
  if (!allDigits(s, 0, 17)) {
    return fail(
      input,
      s,
      "NOT_FOREIGNER_NUMBER",
      "This 18-character value contains letters, so it is not a Foreign Permanent Resident card number (2023 card numbers are 17 digits followed by a digit or X); it may be another kind of code, such as an organization's unified social credit code.",
    );
  }
  if (!isDigitOrX(s.charCodeAt(17))) {
    return fail(
      input,
      s,
      "NOT_FOREIGNER_NUMBER",
      `This is not a Foreign Permanent Resident card number: an 18-character card number ends with a digit or X, not "${s[17]}".`,
    );
  }
  return classifyOther18Digits(input, s);
}

/** 17 digits then a digit or X, not starting with 9: a permit, a citizen ID, or neither. */
function classifyOther18Digits(input: string, s: string): ParsedCardNumber {
  const first = s.charCodeAt(0);
  const second = s.charCodeAt(1);
  if (first === 56 && second >= 49 && second <= 51 && num(s, 2, 6) === 0) {
    const region = second === 49 ? "Hong Kong" : second === 50 ? "Macao" : "Taiwan";
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

/** A 15-character [0-9A-Z] string that is not V2017-shaped (see isV2017Shape). */
export function classifyOther15(input: string, s: string): ParsedCardNumber {
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

/** A non-empty [0-9A-Z] string of neither 15 nor 18 characters. */
export function classifyOtherLength(input: string, s: string): ParsedCardNumber {
  const len = s.length;
  if (isPassportLike(s)) {
    return fail(
      input,
      s,
      "NOT_FOREIGNER_NUMBER",
      "This looks like a passport or travel-permit number (1–2 letters followed by 6–9 digits), not a Foreign Permanent Resident card number, which has 15 characters (2017 card) or 18 (2023 card).",
    );
  }
  return fail(
    input,
    s,
    "WRONG_LENGTH",
    `The number has ${len} character${len === 1 ? "" : "s"}; ${CARD_LENGTHS}.`,
  );
}

/** Passport-like: 1–2 letters followed by 6–9 digits (E12345678, G1234567, PA1234567…). */
function isPassportLike(s: string): boolean {
  const len = s.length;
  if (len < 7 || len > 11) return false;
  const letters = allLetters(s, 0, 2) ? 2 : allLetters(s, 0, 1) ? 1 : 0;
  const digits = len - letters;
  return letters > 0 && digits >= 6 && digits <= 9 && allDigits(s, letters, len);
}
