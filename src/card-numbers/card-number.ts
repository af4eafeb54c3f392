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
 *
 * This file is the public surface; the steps live beside it: card-number-normalize.ts,
 * card-number-v2023.ts, card-number-v2017.ts, card-number-other.ts (values that are not card
 * numbers), and the shared card-number-chars.ts, card-number-dates.ts and card-number-result.ts
 * (the result types and builders, a leaf every step imports).
 */
import { indexOfNonCardChar } from "./card-number-chars.ts";
import { normalizeCardNumber } from "./card-number-normalize.ts";
import { classifyOther15, classifyOther18, classifyOtherLength } from "./card-number-other.ts";
import { fail, type ParsedCardNumber } from "./card-number-result.ts";
import { isV2017Shape, parseV2017 } from "./card-number-v2017.ts";
import { isV2023Shape, parseV2023 } from "./card-number-v2023.ts";

export { normalizeCardNumber } from "./card-number-normalize.ts";
export { computeV2023CheckCharacter } from "./card-number-v2023.ts";

export type { CardNumberErrorCode, CardVersion, ParsedCardNumber, Sex } from "./card-number-result.ts";

/**
 * Normalizes and validates a card number. Never throws for any string input (only for an invalid
 * `today` Date). Birth dates after `today`'s date in China are rejected; the caller passes its
 * clock's instant, as this folder reads no clock.
 */
export function parseCardNumber(input: string, today: Date): ParsedCardNumber {
  const s = normalizeCardNumber(input);
  const len = s.length;
  if (len === 0) return fail(input, null, "EMPTY", "No card number was given.");

  const bad = indexOfNonCardChar(s);
  if (bad !== -1) return badCharacterResult(input, s, bad);

  if (len === 18) return isV2023Shape(s) ? parseV2023(input, s, today) : classifyOther18(input, s);
  if (len === 15) return isV2017Shape(s) ? parseV2017(input, s, today) : classifyOther15(input, s);
  return classifyOtherLength(input, s);
}

/** Characters that must not be shown as themselves: controls, format (bidi, zero-width), separators, lone marks, unassigned. */
const UNPRINTABLE_RE = /^[\p{C}\p{Z}\p{M}]$/u;

/** Error path only: the position is counted in code points, 1-based; everything before `i` is ASCII. */
function badCharacterResult(input: string, s: string, i: number): ParsedCardNumber {
  return fail(
    input,
    s,
    "BAD_CHARACTERS",
    `Card numbers contain only Latin letters and digits, but character ${i + 1} is ${describeChar(s.codePointAt(i) as number)}.`,
  );
}

function describeChar(cp: number): string {
  const hex = "U+" + cp.toString(16).toUpperCase().padStart(4, "0");
  const ch = String.fromCodePoint(cp);
  return UNPRINTABLE_RE.test(ch) ? `an invisible or control character (${hex})` : `"${ch}" (${hex})`;
}
