/**
 * Pure builders of card numbers from their parts, for seeded data generators and tests. They check
 * the shape of each part (and throw RangeError on a malformed one) but not its meaning: an unknown
 * province, nationality or impossible date is allowed, so tests can build invalid numbers too.
 */
import { computeV2023CheckCharacter } from "./card-number.ts";

const TWO_DIGITS = /^[0-9]{2}$/;
const THREE_DIGITS = /^[0-9]{3}$/;
const FOUR_DIGITS = /^[0-9]{4}$/;
const ALPHA3 = /^[A-Z]{3}$/;
const ISO_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

function dateParts(birthDate: string): [string, string, string] {
  const m = ISO_DATE.exec(birthDate);
  if (m === null) throw new RangeError(`birthDate must be YYYY-MM-DD, got ${JSON.stringify(birthDate)}`);
  return [m[1], m[2], m[3]];
}

function integerIn(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer ${min}..${max}, got ${v}`);
}

export interface V2023Parts {
  /** Two digits, GB/T 2260 province-level code, e.g. "11". */
  provinceCode: string;
  /** Three digits, ISO 3166-1 numeric, e.g. "124". */
  nationalityNumeric: string;
  /** YYYY-MM-DD */
  birthDate: string;
  /** 0..999; its parity is the (informational) sex: odd male, even female. */
  sequence: number;
}

/** 9 + province + nationality + YYYYMMDD + 3-digit sequence + ISO 7064 MOD 11-2 check character. */
export function makeV2023Number(p: V2023Parts): string {
  if (!TWO_DIGITS.test(p.provinceCode)) throw new RangeError("provinceCode must be 2 digits");
  if (!THREE_DIGITS.test(p.nationalityNumeric)) throw new RangeError("nationalityNumeric must be 3 digits");
  integerIn("sequence", p.sequence, 0, 999);
  const [y, m, d] = dateParts(p.birthDate);
  const first17 = `9${p.provinceCode}${p.nationalityNumeric}${y}${m}${d}${String(p.sequence).padStart(3, "0")}`;
  return first17 + computeV2023CheckCharacter(first17);
}

export interface V2017Parts {
  /** ISO 3166-1 alpha-3, e.g. "CAN". */
  nationalityAlpha3: string;
  /** 4 digits; the first two are the province code, e.g. "1100". */
  acceptanceCode: string;
  /** YYYY-MM-DD; only YYMMDD is encoded. */
  birthDate: string;
  /** 0..9 */
  sequence: number;
  /** 0..9; the real algorithm is unpublished, so this is a free placeholder (default 0). */
  checkDigit?: number;
}

/** alpha-3 + acceptance code + YYMMDD + sequence digit + check digit. */
export function makeV2017Number(p: V2017Parts): string {
  if (!ALPHA3.test(p.nationalityAlpha3)) throw new RangeError("nationalityAlpha3 must be 3 upper-case letters");
  if (!FOUR_DIGITS.test(p.acceptanceCode)) throw new RangeError("acceptanceCode must be 4 digits");
  integerIn("sequence", p.sequence, 0, 9);
  const check = p.checkDigit ?? 0;
  integerIn("checkDigit", check, 0, 9);
  const [y, m, d] = dateParts(p.birthDate);
  return `${p.nationalityAlpha3}${p.acceptanceCode}${y.slice(2)}${m}${d}${p.sequence}${check}`;
}
