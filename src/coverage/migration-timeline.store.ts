import type { Statement } from "better-sqlite3";
import type { HubDb } from "../db/client.ts";

/** What is counted per week: holders from `since`, V2023 holders from `v2023_since`, and those whose residence ended (on V2023 or not). */
export type TimelineCount = "since" | "v2023" | "ended" | "endedOnV2023";

/** Holders per week counted from `start` (week -1: before it), one GROUP BY per count, prepared once. */
export class MigrationTimelineStore {
  readonly #byWeek: Record<TimelineCount, Statement>;

  constructor(db: HubDb) {
    const bucket = (column: string) => `CASE WHEN ${column} < @start THEN -1 ELSE CAST((julianday(${column}) - julianday(@start)) / 7 AS INTEGER) END`;
    const count = (column: string, where: string) =>
      db.$client.prepare(`SELECT ${bucket(column)} AS week, count(*) AS n FROM holders WHERE ${where} GROUP BY week`);
    this.#byWeek = {
      since: count("since", "since IS NOT NULL"),
      v2023: count("v2023_since", "v2023_since IS NOT NULL"),
      ended: count("substr(status_changed_at, 1, 10)", "status != 'ACTIVE'"),
      endedOnV2023: count("substr(status_changed_at, 1, 10)", "status != 'ACTIVE' AND v2023_since IS NOT NULL"),
    };
  }

  byWeek(count: TimelineCount, start: string): { week: number; n: number }[] {
    return this.#byWeek[count].all({ start }) as { week: number; n: number }[];
  }
}
