/**
 * Dates in China: the one home of the rule. Card validity dates and birth dates are calendar dates
 * in China Standard Time (UTC+8, no daylight saving), not instants: "today" is China's date at a
 * given instant, and a day begins and ends at midnight in China. Everything here is pure: the
 * instant is always passed in.
 */
const CHINA_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic on YYYY-MM-DD dates

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

export function addYears(date: string, years: number): string {
  return `${String(Number(date.slice(0, 4)) + years).padStart(4, "0")}${date.slice(4)}`;
}

/** Monday of the week `date` falls in. */
export function weekStart(date: string): string {
  const weekday = (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
  return addDays(date, -weekday);
}

/** True when year, month (1-12) and day name a day of the Gregorian calendar. */
export function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  if (m === 2) return d <= ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28);
  return d <= (m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31);
}

/** A real calendar date written YYYY-MM-DD. */
export function isCalendarDate(value: unknown): value is string {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  return isRealDate(Number(value.slice(0, 4)), Number(value.slice(5, 7)), Number(value.slice(8, 10)));
}

// ---------------------------------------------------------------------------------------------
// Instants and China's days

let todayCache = { minute: Number.NaN, date: "" };

/** China's date at `now`, YYYY-MM-DD. Dates change on minute boundaries: kept per minute. */
export function chinaToday(now: Date): string {
  const minute = Math.floor(now.getTime() / 60_000);
  if (minute !== todayCache.minute) todayCache = { minute, date: new Date(now.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10) };
  return todayCache.date;
}

let cachedDay = Number.NaN;
let cachedDateKey = 0;

/**
 * China's date at the instant `ms` (epoch milliseconds, a real number) as YYYYMMDD, a number:
 * the card-number parsers compare birth dates with it on every lookup, so it is kept per day and
 * allocates nothing.
 */
export function chinaDateKey(ms: number): number {
  const day = Math.floor((ms + CHINA_OFFSET_MS) / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDateKey = civilDateKey(day);
  }
  return cachedDateKey;
}

/** Days since 1970-01-01 → civil date as YYYYMMDD (H. Hinnant's algorithm). */
function civilDateKey(day: number): number {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return y * 10_000 + m * 100 + d;
}

/** The start (midnight in China) of the China day an instant falls on, as an ISO instant. */
export function chinaDayStart(instant: string): string {
  const t = Date.parse(instant);
  return new Date(Math.floor((t + CHINA_OFFSET_MS) / DAY_MS) * DAY_MS - CHINA_OFFSET_MS).toISOString();
}

/** The instant China's day `date` (YYYY-MM-DD) ends: midnight in China after it, as an ISO instant. */
export function chinaDayEnd(date: string): string {
  return new Date(new Date(`${date}T00:00:00Z`).getTime() + DAY_MS - CHINA_OFFSET_MS).toISOString();
}
