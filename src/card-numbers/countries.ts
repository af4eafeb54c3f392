/**
 * ISO 3166-1 countries (GB/T 2659 uses the same alpha-3 and numeric codes), from the maintained
 * `i18n-iso-countries` package. Lookup maps are built once at module load: the parser calls the
 * finders for every card number.
 */
import { createRequire } from "node:module";
import isoCountries from "i18n-iso-countries";
import type { LocaleData } from "i18n-iso-countries";

export interface Country {
  alpha3: string;
  /** 3 digits, zero-padded, e.g. "004". */
  numeric: string;
  /** English short name. */
  name: string;
}

// The package is CommonJS with no "exports" map: under Node ESM only its default export exists,
// and JSON is loaded through require to avoid depending on import-attribute support.
const require = createRequire(import.meta.url);
isoCountries.registerLocale(require("i18n-iso-countries/langs/en.json") as LocaleData);

// A Chinese national cannot hold a Foreign Permanent Resident card, so China is never a valid
// nationality on one: it is left out of the tables and both finders return null for it.
const EXCLUDED_ALPHA3: ReadonlySet<string> = new Set(["CHN"]);
const EXCLUDED_NUMERIC: ReadonlySet<string> = new Set(
  [...EXCLUDED_ALPHA3].map((a3) => (isoCountries.alpha3ToNumeric(a3) ?? "").padStart(3, "0")),
);

const BY_ALPHA3 = new Map<string, Country>();
const BY_NUMERIC = new Map<string, Country>();
/** Index 0..999 → country, for allocation-free lookups from the parser. */
const BY_NUMERIC_INDEX: (Country | null)[] = new Array<Country | null>(1000).fill(null);

for (const [alpha3, alpha2] of Object.entries(isoCountries.getAlpha3Codes())) {
  if (EXCLUDED_ALPHA3.has(alpha3)) continue;
  const numeric = isoCountries.alpha3ToNumeric(alpha3);
  if (numeric === undefined || !/^[0-9]{1,3}$/.test(numeric)) continue;
  const padded = numeric.padStart(3, "0");
  const name = isoCountries.getName(alpha2, "en", { select: "official" }) ?? alpha3;
  const country: Country = Object.freeze({ alpha3, numeric: padded, name });
  BY_ALPHA3.set(alpha3, country);
  BY_NUMERIC.set(padded, country);
  BY_NUMERIC_INDEX[Number(padded)] = country;
}

export const ALL_COUNTRIES: readonly Country[] = Object.freeze(
  [...BY_ALPHA3.values()].sort((a, b) => (a.alpha3 < b.alpha3 ? -1 : a.alpha3 > b.alpha3 ? 1 : 0)),
);

/** Exact, upper-case alpha-3 code, e.g. "CAN". Returns null for unknown codes and for CHN. */
export function findCountryByAlpha3(a3: string): Country | null {
  return BY_ALPHA3.get(a3) ?? null;
}

/** Exactly three digits, e.g. "124" or "004". Returns null for unknown codes and for 156. */
export function findCountryByNumeric(num: string): Country | null {
  return BY_NUMERIC.get(num) ?? null;
}

/** Lookup by numeric value 0..999 (hot path of the card-number parser). */
export function findCountryByNumericIndex(index: number): Country | null {
  return index >= 0 && index < 1000 ? (BY_NUMERIC_INDEX[index] ?? null) : null;
}

/** True for codes (alpha-3 or 3-digit numeric) that exist in ISO 3166-1 but can never be a cardholder's nationality (China). */
export function isExcludedNationality(code: string): boolean {
  return EXCLUDED_ALPHA3.has(code) || EXCLUDED_NUMERIC.has(code);
}
