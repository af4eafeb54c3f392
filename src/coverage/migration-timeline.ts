import { addDays, chinaToday, weekStart } from "../china-date.ts";
import type { HubDb } from "../db/client.ts";
import type { FigureCache } from "./figure-cache.ts";
import { MigrationTimelineStore, type TimelineCount } from "./migration-timeline.store.ts";

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
  readonly #store: MigrationTimelineStore;

  constructor(
    db: HubDb,
    private readonly now: () => Date = () => new Date(),
    private readonly cache: FigureCache | null = null,
  ) {
    this.#store = new MigrationTimelineStore(db);
  }

  private cumulative(count: TimelineCount, start: string, weeks: number): number[] {
    const perWeek = new Array<number>(weeks).fill(0);
    let before = 0;
    for (const { week, n } of this.#store.byWeek(count, start)) {
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
    const holders = this.cumulative("since", start, weeks);
    const onV2023 = this.cumulative("v2023", start, weeks);
    const ended = this.cumulative("ended", start, weeks);
    const endedOnV2023 = this.cumulative("endedOnV2023", start, weeks);
    return holders.map((count, i) => ({
      periodStart: addDays(start, 7 * i),
      activeHolders: count - ended[i],
      onV2023: onV2023[i] - endedOnV2023[i],
    }));
  }
}
