import crypto from "node:crypto";
import { asc, eq } from "drizzle-orm";
import type { HubDb } from "../db/client.ts";
import { partners } from "../db/schema.ts";
import { HubError } from "../errors.ts";
import { findProvince, type Province } from "../cards/provinces.ts";

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

/** The highest evidence held: a passed probe, then observed V2023 traffic, then a READY declaration. */
export function coverageLevelOf(row: Pick<PartnerRow, "conformance" | "lastV2023CheckAt" | "declaredAdaptation">): CoverageLevel {
  if (row.conformance === "PASSED") return "VERIFIED";
  if (row.lastV2023CheckAt) return "OBSERVED";
  if (row.declaredAdaptation === "READY") return "DECLARED";
  return "NONE";
}

function toView(row: PartnerRow): PartnerView {
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
      level: coverageLevelOf(row),
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
    const row = this.db
      .insert(partners)
      .values({
        id: `prt_${crypto.randomBytes(9).toString("base64url")}`,
        name,
        industry: input.industry,
        provinceCode,
        createdAt: this.now().toISOString(),
      })
      .returning()
      .get();
    return toView(row);
  }

  get(id: string): PartnerView | null {
    const row = this.db.select().from(partners).where(eq(partners.id, id)).get();
    return row ? toView(row) : null;
  }

  list(): PartnerView[] {
    return this.db.select().from(partners).orderBy(asc(partners.createdAt), asc(partners.id)).all().map(toView);
  }
}
