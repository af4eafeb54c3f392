/**
 * Char-code scans over a normalized card number, shared by the parsers. They allocate nothing; the
 * ranges are half-open, [from, to).
 */

/** True for the card alphabet, ASCII [0-9A-Z]. */
function isCardChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
}

/** True for the last character of an 18-character number: an ASCII digit or "X". */
export function isDigitOrX(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 88;
}

/** Index of the first character outside [0-9A-Z], or -1. */
export function indexOfNonCardChar(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (!isCardChar(s.charCodeAt(i))) return i;
  }
  return -1;
}

export function allDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export function allLetters(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/** Value of the ASCII digits s[from..to). Caller guarantees they are digits. */
export function num(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  return v;
}
