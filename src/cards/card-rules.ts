import { HubError } from "../errors.ts";
import { parseCardNumber, type CardVersion, type ParsedCardNumber } from "../card-numbers/card-number.ts";
import { addDays, addYears, chinaToday, isCalendarDate } from "../china-date.ts";

/** The first day V2023 cards were issued; V2017 cards were issued only before it. */
export const V2023_LAUNCH = "2023-12-01";
const MAX_VALIDITY_YEARS = 10;
const MAX_DAYS_AHEAD = 90;
const MAX_ISSUE_COUNT = 99;

/** Parses a number that must be a well-formed FPR number (birth dates checked against `now`), or throws INVALID_CARD_NUMBER. */
export function requireCardNumber(input: string, field: string, now: Date): ParsedCardNumber & { normalized: string } {
  const parsed = parseCardNumber(input, now);
  if (!parsed.valid || parsed.normalized === null) {
    const first = parsed.errors[0];
    throw new HubError("INVALID_CARD_NUMBER", `${field}: ${first?.message ?? "not a card number"}`, {
      field,
      errors: parsed.errors,
    });
  }
  return parsed as ParsedCardNumber & { normalized: string };
}

export function requireIssueCount(value: number | null | undefined, field = "issueCount"): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > MAX_ISSUE_COUNT) {
    throw new HubError("BAD_USER_INPUT", `${field} must be a whole number from 0 to ${MAX_ISSUE_COUNT}`, { field });
  }
  return value;
}

let aheadCache = { today: "", limit: "" };

/** The latest validFrom accepted today (kept per day: bulk loads check it for every record). */
function latestValidFrom(now: Date): string {
  const today = chinaToday(now);
  if (today !== aheadCache.today) aheadCache = { today, limit: addDays(today, MAX_DAYS_AHEAD) };
  return aheadCache.limit;
}

/** Validity must be plausible: real dates, from < until, at most 10 years, inside the version's era. */
export function requirePlausibleValidity(version: CardVersion, validFrom: string, validUntil: string, now: Date): void {
  for (const [field, value] of [["validFrom", validFrom], ["validUntil", validUntil]] as const) {
    if (!isCalendarDate(value)) throw new HubError("BAD_USER_INPUT", `${field} must be a calendar date written YYYY-MM-DD`, { field });
  }
  const bad = (message: string) => new HubError("BAD_USER_INPUT", message, { field: "validUntil" });
  if (validFrom >= validUntil) throw bad("validFrom must be before validUntil");
  if (validUntil > addYears(validFrom, MAX_VALIDITY_YEARS)) {
    throw bad(`validity may not exceed ${MAX_VALIDITY_YEARS} years`);
  }
  if (validFrom > latestValidFrom(now)) {
    throw new HubError("BAD_USER_INPUT", `validFrom may be at most ${MAX_DAYS_AHEAD} days ahead`, { field: "validFrom" });
  }
  if (version === "V2023" && validFrom < V2023_LAUNCH) {
    throw new HubError("BAD_USER_INPUT", `V2023 cards exist only from ${V2023_LAUNCH}`, { field: "validFrom" });
  }
  if (version === "V2017" && validFrom >= V2023_LAUNCH) {
    throw new HubError("BAD_USER_INPUT", `V2017 cards were issued only before ${V2023_LAUNCH}`, { field: "validFrom" });
  }
}

export function requireText(value: string | null | undefined, field: string, maxLength: number, required: boolean): string | null {
  const trimmed = value?.trim() ?? "";
  if (trimmed === "") {
    if (required) throw new HubError("BAD_USER_INPUT", `${field} must not be empty`, { field });
    return null;
  }
  if (trimmed.length > maxLength) {
    throw new HubError("BAD_USER_INPUT", `${field} must be at most ${maxLength} characters`, { field });
  }
  return trimmed;
}
