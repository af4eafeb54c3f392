import { ALL_COUNTRIES } from "../card-numbers/countries.ts";
import { findProvince } from "../card-numbers/provinces.ts";
import type { HubDb } from "../db/client.ts";
import { HubError } from "../errors.ts";
import type { FigureCache } from "./figure-cache.ts";
import { OBSERVED_WINDOW_DAYS } from "../partners/partner-service.ts";
import { CoverageStore, type CoverageGroup, type MigrationGroup } from "./coverage.store.ts";

export interface CoverageRowView {
  key: string;
  label: string;
  partners: number;
  declared: number;
  observed: number;
  verified: number;
  ratio: number;
}

export interface MigrationRowView {
  key: string;
  label: string;
  activeHolders: number;
  onV2023: number;
  ratio: number;
}

const INDUSTRY_LABELS: Record<string, string> = {
  ACCOMMODATION: "Accommodation",
  RAIL: "Rail",
  AVIATION: "Aviation",
  SHIPPING: "Shipping",
  BANKING: "Banking",
  PAYMENTS: "Payments",
  TELECOM: "Telecom",
  ONLINE_SERVICES: "Online services",
  GOVERNMENT: "Government",
  OTHER: "Other",
};

const countryNames = new Map(ALL_COUNTRIES.map((c) => [c.numeric, c.name]));

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}

/** Rollout figures: who counts as observed, labels and ratios (the counting is coverage.store.ts). */
export class CoverageService {
  readonly #store: CoverageStore;

  constructor(
    db: HubDb,
    private readonly now: () => Date = () => new Date(),
    private readonly cache: FigureCache | null = null,
  ) {
    this.#store = new CoverageStore(db);
  }

  rolloutCoverage(groupBy: CoverageGroup): CoverageRowView[] {
    const since = new Date(this.now().getTime() - OBSERVED_WINDOW_DAYS * 86_400_000).toISOString();
    const rows = this.#store.coverage(groupBy, since);
    return rows.map((row) => ({
      ...row,
      label: groupBy === "INDUSTRY" ? (INDUSTRY_LABELS[row.key] ?? row.key) : (findProvince(row.key)?.name ?? "Nationwide"),
      key: row.key === "" ? "NATIONWIDE" : row.key,
      ratio: ratio(row.observed + row.verified, row.partners),
    }));
  }

  migrationProgress(groupBy: MigrationGroup): MigrationRowView[] {
    const read = () => this.#store.migration(groupBy);
    const rows = this.cache ? this.cache.get(`migration:${groupBy}`, read) : read();
    const labelOf = (key: string) =>
      groupBy === "TOTAL" ? "All holders" : groupBy === "PROVINCE" ? (findProvince(key)?.name ?? "Unknown") : (countryNames.get(key) ?? key);
    return rows.map((row) => ({ ...row, label: labelOf(row.key), ratio: ratio(row.onV2023, row.activeHolders) }));
  }

  requireWeeks(weeks: number): number {
    if (!Number.isInteger(weeks) || weeks < 1 || weeks > 520) throw new HubError("BAD_USER_INPUT", "weeks must be from 1 to 520", { field: "weeks" });
    return weeks;
  }
}
