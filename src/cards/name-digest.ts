import type { Digester } from "../hub-secret.ts";

/**
 * Names are stored only as keyed digests of a normalized form, enough to answer MATCH / NO_MATCH.
 * Normalization: Unicode NFKC, upper case, punctuation (commas, hyphens, dots, apostrophes) as
 * word breaks, and, for English names, word order ignored ("SURNAME, GIVEN" = "GIVEN SURNAME").
 */
export function normalizeEnglishName(name: string): string {
  return name
    .normalize("NFKC")
    .toUpperCase()
    .replace(/[\p{P}\p{S}\s]+/gu, " ")
    .trim()
    .split(" ")
    .filter(Boolean)
    .sort()
    .join(" ");
}

/** Chinese names keep their order (surname first by convention); spaces and dots (·) drop out. */
export function normalizeChineseName(name: string): string {
  return name.normalize("NFKC").replace(/[\p{P}\p{S}\s]+/gu, "").toUpperCase();
}

export function digestEnglishName(digester: Digester, name: string): string {
  return digester.digest("name.en", normalizeEnglishName(name));
}

export function digestChineseName(digester: Digester, name: string): string {
  return digester.digest("name.zh", normalizeChineseName(name));
}
