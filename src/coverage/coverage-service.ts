import type { Statement } from "better-sqlite3";
import { ALL_COUNTRIES } from "../card-numbers/countries.ts";
import { findProvince } from "../card-numbers/provinces.ts";
import type { HubDb } from "../db/client.ts";
import { HubError } from "../errors.ts";
import type { FigureCache } from "./figure-cache.ts";
import { OBSERVED_WINDOW_DAYS } from "../partners/partner-service.ts";


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

/** Rollout figures, each one aggregate query (indexes and the holder facts keep them fast). */
export class CoverageService {
  readonly #coverage: Record<"INDUSTRY" | "PROVINCE", Statement>;
  readonly #migration: Record<"TOTAL" | "PROVINCE" | "NATIONALITY", Statement>;

  constructor(
    db: HubDb,
    private readonly now: () => Date = () => new Date(),
    private readonly cache: FigureCache | null = null,
  ) {
    // Each partner counts once, at its highest evidence: the bars stack to the partner count.
    const level = `CASE WHEN conformance = 'PASSED' THEN 'VERIFIED'
      WHEN last_v2023_check_at >= @since THEN 'OBSERVED'
      WHEN declared_adaptation = 'READY' THEN 'DECLARED' ELSE 'NONE' END`;
    const coverage = (key: string) =>
      db.$client.prepare(`SELECT ${key} AS key, count(*) AS partners,
          sum(lvl = 'DECLARED') AS declared, sum(lvl = 'OBSERVED') AS observed, sum(lvl = 'VERIFIED') AS verified
        FROM (SELECT *, ${level} AS lvl FROM partners) GROUP BY ${key} ORDER BY partners DESC, key`);
    this.#coverage = { INDUSTRY: coverage("industry"), PROVINCE: coverage("coalesce(province_code, '')") };
    const migration = (key: string) =>
      db.$client.prepare(`SELECT ${key} AS key, count(*) AS activeHolders, coalesce(sum(current_version = 'V2023'), 0) AS onV2023
        FROM holders WHERE status = 'ACTIVE' GROUP BY ${key} ORDER BY activeHolders DESC, key`);
    this.#migration = { TOTAL: migration("'TOTAL'"), PROVINCE: migration("coalesce(province_code, '')"), NATIONALITY: migration("coalesce(nationality, '')") };
  }

  rolloutCoverage(groupBy: "INDUSTRY" | "PROVINCE"): CoverageRowView[] {
    const since = new Date(this.now().getTime() - OBSERVED_WINDOW_DAYS * 86_400_000).toISOString();
    const rows = this.#coverage[groupBy].all({ since }) as Omit<CoverageRowView, "label" | "ratio">[];
    return rows.map((row) => ({
      ...row,
      label: groupBy === "INDUSTRY" ? (INDUSTRY_LABELS[row.key] ?? row.key) : (findProvince(row.key)?.name ?? "Nationwide"),
      key: row.key === "" ? "NATIONWIDE" : row.key,
      ratio: ratio(row.observed + row.verified, row.partners),
    }));
  }

  migrationProgress(groupBy: "TOTAL" | "PROVINCE" | "NATIONALITY"): MigrationRowView[] {
    const read = () => this.#migration[groupBy].all() as Omit<MigrationRowView, "label" | "ratio">[];
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
