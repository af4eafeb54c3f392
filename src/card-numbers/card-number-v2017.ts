/**
 * V2017 card numbers: 15 characters, AAA PPxx YYMMDD S C (ISO alpha-3 nationality, acceptance place
 * whose first two digits are the province, birth date, sequence, check digit).
 */
import { findCountryByAlpha3, isExcludedNationality } from "./countries.ts";
import { findProvinceByIndex } from "./provinces.ts";
import { allDigits, allLetters, num } from "./card-number-chars.ts";
import { isRealDate } from "../china-date.ts";
import { todayKey } from "./card-number-dates.ts";
import { result, type CardNumberError, type ParsedCardNumber } from "./card-number-result.ts";

/** For a 15-character [0-9A-Z] string: 3 letters followed by 12 digits. */
export function isV2017Shape(s: string): boolean {
  return allLetters(s, 0, 3) && allDigits(s, 3, 15);
}

/**
 * Caller guarantees isV2017Shape(s). Reports every failing part, fills in every part that passed.
 * The checks stay inline on purpose, as in parseV2023 (V8's inlining budget).
 */
export function parseV2017(input: string, s: string, today: Date): ParsedCardNumber {
  let errors: CardNumberError[] | null = null;

  const a3 = s.slice(0, 3);
  const nationality = findCountryByAlpha3(a3);
  if (nationality === null) (errors ??= []).push(unknownNationalityError(a3));

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

function unknownNationalityError(a3: string): CardNumberError {
  return {
    code: "UNKNOWN_NATIONALITY",
    message: isExcludedNationality(a3)
      ? `The first three letters ("${a3}") are the code of China; a Foreign Permanent Resident card is never issued to a Chinese national.`
      : `The first three letters ("${a3}") are not an ISO 3166-1 alpha-3 country code.`,
  };
}
