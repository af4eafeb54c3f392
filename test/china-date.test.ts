/** The date rules the register and bulk loads check on every record. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chinaToday, isCalendarDate } from "../src/china-date.ts";

/** What a calendar date is, by the JavaScript Date round trip. */
function byDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

describe("isCalendarDate", () => {
  it("agrees with the Date round trip on every YYYY-MM-DD shape, leap years included", () => {
    const pad = (n: number, width: number) => String(n).padStart(width, "0");
    const shaped = fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 })).map(([y, m, d]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`);
    fc.assert(fc.property(shaped, (value) => isCalendarDate(value) === byDate(value)), { numRuns: 20_000 });
    for (const [value, expected] of [["2024-02-29", true], ["2023-02-29", false], ["1900-02-29", false], ["2000-02-29", true], ["2024-04-31", false], ["2024-12-31", true], ["2024-13-01", false], ["2024-00-10", false], ["2024-1-01", false], [" 2024-01-01", false]] as const) {
      expect(isCalendarDate(value), value).toBe(expected);
    }
    expect(isCalendarDate(20240101)).toBe(false);
  });
});

describe("chinaToday", () => {
  it("turns at midnight in China (16:00 UTC), also when asked again within the same minute", () => {
    expect(chinaToday(new Date("2026-03-01T15:59:59.999Z"))).toBe("2026-03-01");
    expect(chinaToday(new Date("2026-03-01T16:00:00.000Z"))).toBe("2026-03-02");
    expect(chinaToday(new Date("2026-03-01T15:59:00.000Z"))).toBe("2026-03-01");
    expect(chinaToday(new Date("2026-03-01T16:00:30.000Z"))).toBe("2026-03-02");
    expect(chinaToday(new Date("2025-12-31T15:00:00.000Z"))).toBe("2025-12-31");
  });
});
