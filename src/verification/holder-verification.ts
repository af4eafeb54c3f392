import { HubError, isHubError } from "../errors.ts";
import type { Digester } from "../hub-secret.ts";
import type { AuditLog } from "../partners/audit-log.ts";
import type { RateLimits } from "../partners/rate-limits.ts";
import type { Principal, Viewer } from "../partners/roles.ts";
import type { CardCheckView, CardLookup } from "../cards/card-lookup.ts";
import type { CardQueries } from "../cards/card-queries.ts";
import { isCalendarDate } from "../china-date.ts";
import { requireText } from "../cards/card-rules.ts";
import { digestChineseName, digestEnglishName } from "../cards/name-digest.ts";

export type VerificationResult = "MATCH" | "NO_MATCH" | "CARD_NOT_VALID" | "NOT_FOUND" | "MALFORMED";

export interface VerifyHolderData {
  number: string;
  issueCount?: number | null;
  englishName?: string | null;
  chineseName?: string | null;
  birthDate?: string | null;
}

export interface VerificationView {
  result: VerificationResult;
  check: CardCheckView;
  auditId: string;
}

interface Claims {
  englishName: string | null;
  chineseName: string | null;
  birthDate: string | null;
}

function requireClaims(input: VerifyHolderData): Claims {
  const claims = {
    englishName: requireText(input.englishName, "englishName", 200, false),
    chineseName: requireText(input.chineseName, "chineseName", 100, false),
    birthDate: input.birthDate ?? null,
  };
  if (claims.birthDate !== null && !isCalendarDate(claims.birthDate)) {
    throw new HubError("BAD_USER_INPUT", "birthDate must be a calendar date written YYYY-MM-DD", { field: "birthDate" });
  }
  if (!claims.englishName && !claims.chineseName && !claims.birthDate) {
    throw new HubError("BAD_USER_INPUT", "give at least one of englishName, chineseName, birthDate to verify", { field: "input" });
  }
  return claims;
}

/**
 * Confirms what a partner was told about a holder without handing out or storing any of it: the
 * claims are normalized and digested with the hub secret, then compared with the stored digests.
 */
export class HolderVerification {
  constructor(
    private readonly lookup: CardLookup,
    private readonly queries: CardQueries,
    private readonly digester: Digester,
    private readonly audit: AuditLog,
    private readonly limits: () => RateLimits | null,
  ) {}

  async verify(principal: Principal, input: VerifyHolderData, viewer: Viewer): Promise<VerificationView> {
    const claims = requireClaims(input);
    const check = this.lookup.checkUnaudited(input.number, input.issueCount, viewer);
    let result: VerificationResult;
    try {
      result = await this.resultOf(principal, check, claims);
    } catch (error) {
      // A refused attempt is audited too: the trail shows the guessing, not only what was answered.
      if (isHubError(error) && error.code === "RATE_LIMITED") this.record(principal, check, "RATE_LIMITED");
      throw error;
    }
    return { result, check, auditId: this.record(principal, check, result) };
  }

  private record(principal: Principal, check: CardCheckView, result: string): string {
    return this.audit.recordNow({
      kind: "VERIFY",
      keyId: principal.keyId,
      partnerId: principal.partnerId,
      number: check.parse.valid ? check.number : null,
      version: check.parse.version,
      result,
    });
  }

  /**
   * Compares only for a valid card, and only after reserving a miss (so attempts running at once
   * all count); a MATCH gives its reservation back but clears no earlier miss: a MATCH can be free
   * (the birth date is written in the number), so letting it reset the count would reopen guessing.
   */
  private async resultOf(principal: Principal, check: CardCheckView, claims: Claims): Promise<VerificationResult> {
    if (check.result === "MALFORMED") return "MALFORMED";
    if (check.result === "NOT_FOUND") return "NOT_FOUND";
    if (check.result !== "VALID") return "CARD_NOT_VALID";
    const limits = this.limits();
    const reservation = await limits?.reserveVerification(principal, this.digester.digest("audit.number", check.number!));
    let matched: boolean;
    try {
      matched = this.matches(check.number!, claims);
    } catch (error) {
      if (reservation) await limits!.refundVerification(reservation);
      throw error;
    }
    if (matched && reservation) await limits!.refundVerification(reservation);
    return matched ? "MATCH" : "NO_MATCH";
  }

  private matches(number: string, claims: Claims): boolean {
    const facts = this.queries.holderFacts(number);
    if (!facts) return false;
    if (claims.englishName && digestEnglishName(this.digester, claims.englishName) !== facts.englishNameDigest) return false;
    if (claims.chineseName && digestChineseName(this.digester, claims.chineseName) !== facts.chineseNameDigest) return false;
    return !claims.birthDate || claims.birthDate === facts.birthDate;
  }
}
