import crypto from "node:crypto";
import { asc, eq, sql } from "drizzle-orm";
import { writeReturning, type HubDb } from "../db/client.ts";
import { partners } from "../db/schema.ts";
import { HubError } from "../errors.ts";
import { findProvince, type Province } from "../card-numbers/provinces.ts";

export const INDUSTRIES = [
  "ACCOMMODATION",
  "RAIL",
  "AVIATION",
  "SHIPPING",
  "BANKING",
  "PAYMENTS",
  "TELECOM",
  "ONLINE_SERVICES",
  "GOVERNMENT",
  "OTHER",
] as const;
export type Industry = (typeof INDUSTRIES)[number];

export type AdaptationState = "NOT_STARTED" | "IN_PROGRESS" | "READY";
export type ConformanceState = "NOT_RUN" | "RUNNING" | "PASSED" | "FAILED";
export type CoverageLevel = "NONE" | "DECLARED" | "OBSERVED" | "VERIFIED";

export interface AdaptationView {
  declared: AdaptationState;
  declaredAt: string | null;
  lastV2023CheckAt: string | null;
  conformance: ConformanceState;
  conformanceAt: string | null;
  level: CoverageLevel;
}

export interface PartnerView {
  id: string;
  name: string;
  industry: Industry;
  province: Province | null;
  adaptation: AdaptationView;
  createdAt: string;
}

type PartnerRow = typeof partners.$inferSelect;

/** Checks of existing V2023 numbers within this many days count as observed adaptation. */
export const OBSERVED_WINDOW_DAYS = 30;

/** The highest evidence held: a passed probe, then recent V2023 traffic, then a READY declaration. */
export function coverageLevelOf(row: Pick<PartnerRow, "conformance" | "lastV2023CheckAt" | "declaredAdaptation">, now: Date): CoverageLevel {
  if (row.conformance === "PASSED") return "VERIFIED";
  const since = new Date(now.getTime() - OBSERVED_WINDOW_DAYS * 86_400_000).toISOString();
  if (row.lastV2023CheckAt && row.lastV2023CheckAt >= since) return "OBSERVED";
  if (row.declaredAdaptation === "READY") return "DECLARED";
  return "NONE";
}

function toView(row: PartnerRow, now: Date): PartnerView {
  return {
    id: row.id,
    name: row.name,
    industry: row.industry as Industry,
    province: row.provinceCode ? findProvince(row.provinceCode) : null,
    createdAt: row.createdAt,
    adaptation: {
      declared: row.declaredAdaptation as AdaptationState,
      declaredAt: row.declaredAt,
      lastV2023CheckAt: row.lastV2023CheckAt,
      conformance: row.conformance as ConformanceState,
      conformanceAt: row.conformanceAt,
      level: coverageLevelOf(row, now),
    },
  };
}

export class PartnerService {
  constructor(
    private readonly db: HubDb,
    private readonly now: () => Date = () => new Date(),
  ) {}

  create(input: { name: string; industry: string; provinceCode?: string | null }): PartnerView {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 200) {
      throw new HubError("BAD_USER_INPUT", "name must be 1 to 200 characters", { field: "name" });
    }
    if (!INDUSTRIES.includes(input.industry as Industry)) {
      throw new HubError("BAD_USER_INPUT", `industry must be one of ${INDUSTRIES.join(", ")}`, { field: "industry" });
    }
    const provinceCode = input.provinceCode?.trim() || null;
    if (provinceCode && !findProvince(provinceCode)) {
      throw new HubError("BAD_USER_INPUT", `provinceCode ${provinceCode} is not a GB/T 2260 province code`, { field: "provinceCode" });
    }
    const values = { id: `prt_${crypto.randomBytes(9).toString("base64url")}`, name, industry: input.industry, provinceCode, createdAt: this.now().toISOString() };
    const row = writeReturning(this.db, () => this.db.insert(partners).values(values).returning().get());
    return toView(row, this.now());
  }

  get(id: string): PartnerView | null {
    const row = this.db.select().from(partners).where(eq(partners.id, id)).get();
    return row ? toView(row, this.now()) : null;
  }

  list(): PartnerView[] {
    const now = this.now();
    return this.db.select().from(partners).orderBy(asc(partners.createdAt), sql`rowid`).all().map((row) => toView(row, now));
  }

  /** The partner's own statement of how far it has adapted to V2023 numbers. */
  declare(id: string, state: string): PartnerView {
    if (!["NOT_STARTED", "IN_PROGRESS", "READY"].includes(state)) throw new HubError("BAD_USER_INPUT", "unknown adaptation state", { field: "state" });
    const declared = { declaredAdaptation: state, declaredAt: this.now().toISOString() };
    const row = writeReturning(this.db, () => this.db.update(partners).set(declared).where(eq(partners.id, id)).returning().get());
    if (!row) throw new HubError("NOT_FOUND", `partner ${id} does not exist`);
    return toView(row, this.now());
  }
}
