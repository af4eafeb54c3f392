/** Birth-date checks shared by the V2023 and V2017 parsers. */

// Birth dates are calendar dates in China: "today" is the date in China Standard Time (UTC+8, no
// daylight saving) at the given instant.
const CHINA_OFFSET_MS = 8 * 3_600_000;
const MS_PER_DAY = 86_400_000;

/** The earliest accepted birth date, as YYYYMMDD. */
export const MIN_BIRTH_KEY = 19000101;

let cachedDay = Number.NaN;
let cachedTodayKey = 0;

/** Today's date in China as YYYYMMDD (a number), cached per day so the hot path allocates nothing. */
export function todayKey(today: Date | undefined): number {
  const ms = today === undefined ? Date.now() : today.getTime();
  if (Number.isNaN(ms)) throw new RangeError("parseCardNumber: `today` is an invalid Date");
  const day = Math.floor((ms + CHINA_OFFSET_MS) / MS_PER_DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedTodayKey = civilDateKey(day);
  }
  return cachedTodayKey;
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

export function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  if (m === 2) return d <= ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28);
  return d <= (m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31);
}
