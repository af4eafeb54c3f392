/**
 * Normalization of card numbers as people type or paste them (see normalizeCardNumber). Plain
 * ASCII input, the common case, never reaches NFKC or a regex.
 */

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
