import type { Statement } from "better-sqlite3";
import { addDays, chinaToday, weekStart } from "../china-date.ts";
import type { HubDb } from "../db/client.ts";
import type { FigureCache } from "./figure-cache.ts";

export interface MigrationPointView {
  periodStart: string;
  activeHolders: number;
  onV2023: number;
}

/**
 * Holders and V2023 holders per week. A holder counts from the day their first card took effect
 * (validFrom), on V2023 from the day their first V2023 card did, and stops counting from the
 * week their permanent residence ended. Card dates are used rather than event times: a bulk load
 * records years of issuance at one instant.
 */
export class MigrationTimeline {
  readonly #byWeek: Record<"since" | "v2023" | "ended" | "endedOnV2023", Statement>;

  constructor(
    db: HubDb,
    private readonly now: () => Date = () => new Date(),
    private readonly cache: FigureCache | null = null,
  ) {
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

  private cumulative(statement: Statement, start: string, weeks: number): number[] {
    const perWeek = new Array<number>(weeks).fill(0);
    let before = 0;
    for (const { week, n } of statement.all({ start }) as { week: number; n: number }[]) {
      if (week < 0) before += n;
      else if (week < weeks) perWeek[week] += n;
    }
    let total = before;
    return perWeek.map((n) => (total += n));
  }

  points(weeks: number): MigrationPointView[] {
    const start = addDays(weekStart(chinaToday(this.now())), -7 * (weeks - 1));
    return this.cache ? this.cache.get(`timeline:${start}:${weeks}`, () => this.compute(start, weeks)) : this.compute(start, weeks);
  }

  private compute(start: string, weeks: number): MigrationPointView[] {
    const holders = this.cumulative(this.#byWeek.since, start, weeks);
    const onV2023 = this.cumulative(this.#byWeek.v2023, start, weeks);
    const ended = this.cumulative(this.#byWeek.ended, start, weeks);
    const endedOnV2023 = this.cumulative(this.#byWeek.endedOnV2023, start, weeks);
    return holders.map((count, i) => ({
      periodStart: addDays(start, 7 * i),
      activeHolders: count - ended[i],
      onV2023: onV2023[i] - endedOnV2023[i],
    }));
  }
}
