/** Birth-date checks shared by the V2023 and V2017 parsers; the China-date rule is src/china-date.ts. */
import { chinaDateKey } from "../china-date.ts";

/** The earliest accepted birth date, as YYYYMMDD. */
export const MIN_BIRTH_KEY = 19000101;

/** Today's date in China as YYYYMMDD (a number): birth dates after it are rejected. */
export function todayKey(today: Date): number {
  const ms = today.getTime();
  if (Number.isNaN(ms)) throw new RangeError("parseCardNumber: `today` is an invalid Date");
  return chinaDateKey(ms);
}
