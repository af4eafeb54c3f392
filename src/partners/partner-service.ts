import crypto from "node:crypto";
import { ADAPTATION_STATES, INDUSTRIES, type AdaptationState, type ConformanceState, type Industry } from "../db/column-types.ts";
import type { HubDb } from "../db/client.ts";
import { HubError } from "../errors.ts";
import { findProvince, type Province } from "../card-numbers/provinces.ts";
import { PartnerStore, type PartnerRow } from "./partner.store.ts";

// The lists are kept beside the table definitions, which type the partners' columns with them.
export {
  ADAPTATION_STATES,
  CONFORMANCE_STATES,
  INDUSTRIES,
  type AdaptationState,
  type Industry,
} from "../db/column-types.ts";
type CoverageLevel = "NONE" | "DECLARED" | "OBSERVED" | "VERIFIED";

interface AdaptationView {
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

/** Checks of existing V2023 numbers within this many days count as observed adaptation. */
export const OBSERVED_WINDOW_DAYS = 30;

/** The highest evidence held: a passed probe, then recent V2023 traffic, then a READY declaration. */
function coverageLevelOf(row: Pick<PartnerRow, "conformance" | "lastV2023CheckAt" | "declaredAdaptation">, now: Date): CoverageLevel {
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
    industry: row.industry,
    province: row.provinceCode ? findProvince(row.provinceCode) : null,
    createdAt: row.createdAt,
    adaptation: {
      declared: row.declaredAdaptation,
      declaredAt: row.declaredAt,
      lastV2023CheckAt: row.lastV2023CheckAt,
      conformance: row.conformance,
      conformanceAt: row.conformanceAt,
      level: coverageLevelOf(row, now),
    },
  };
}

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

export class PartnerService {
  readonly #store: PartnerStore;

  constructor(
    db: HubDb,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#store = new PartnerStore(db);
  }

  create(input: { name: string; industry: string; provinceCode?: string | null }): PartnerView {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 200) {
      throw new HubError("BAD_USER_INPUT", "name must be 1 to 200 characters", { field: "name" });
    }
    const industry = input.industry;
    if (!isOneOf(INDUSTRIES, industry)) {
      throw new HubError("BAD_USER_INPUT", `industry must be one of ${INDUSTRIES.join(", ")}`, { field: "industry" });
    }
    const provinceCode = input.provinceCode?.trim() || null;
    if (provinceCode && !findProvince(provinceCode)) {
      throw new HubError("BAD_USER_INPUT", `provinceCode ${provinceCode} is not a GB/T 2260 province code`, { field: "provinceCode" });
    }
    const row = this.#store.insert({ id: `prt_${crypto.randomBytes(9).toString("base64url")}`, name, industry, provinceCode, createdAt: this.now().toISOString() });
    return toView(row, this.now());
  }

  get(id: string): PartnerView | null {
    const row = this.#store.byId(id);
    return row ? toView(row, this.now()) : null;
  }

  list(): PartnerView[] {
    const now = this.now();
    return this.#store.all().map((row) => toView(row, now));
  }

  /** The partner's own statement of how far it has adapted to V2023 numbers. */
  declare(id: string, state: string): PartnerView {
    if (!isOneOf(ADAPTATION_STATES, state)) throw new HubError("BAD_USER_INPUT", "unknown adaptation state", { field: "state" });
    const row = this.#store.setDeclared(id, { declaredAdaptation: state, declaredAt: this.now().toISOString() });
    if (!row) throw new HubError("NOT_FOUND", `partner ${id} does not exist`);
    return toView(row, this.now());
  }
}
