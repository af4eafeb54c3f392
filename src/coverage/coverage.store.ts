import type { Statement } from "better-sqlite3";
import type { HubDb } from "../db/client.ts";

export type CoverageGroup = "INDUSTRY" | "PROVINCE";
export type MigrationGroup = "TOTAL" | "PROVINCE" | "NATIONALITY";

/** Partners of one group by their strongest evidence (coverage-service.ts labels them). */
export interface CoverageCountRow {
  key: string;
  partners: number;
  declared: number;
  observed: number;
  verified: number;
}

export interface MigrationCountRow {
  key: string;
  activeHolders: number;
  onV2023: number;
}

/** Rollout figures, each one aggregate query (indexes and the holder facts keep them fast), prepared once. */
export class CoverageStore {
  readonly #coverage: Record<CoverageGroup, Statement>;
  readonly #migration: Record<MigrationGroup, Statement>;

  constructor(db: HubDb) {
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

  /** Partners per group; a V2023 check since `since` (ISO) counts as observed. Province "" is nationwide. */
  coverage(groupBy: CoverageGroup, since: string): CoverageCountRow[] {
    return this.#coverage[groupBy].all({ since }) as CoverageCountRow[];
  }

  /** Active holders per group, and those on a V2023 card; key "" where the group is unknown. */
  migration(groupBy: MigrationGroup): MigrationCountRow[] {
    return this.#migration[groupBy].all() as MigrationCountRow[];
  }
}
