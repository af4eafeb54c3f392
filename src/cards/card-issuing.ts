import { HubError } from "../errors.ts";
import type { Sex } from "../card-numbers/card-number.ts";
import { requireCardNumber, requireIssueCount, requirePlausibleValidity, requireText } from "./card-rules.ts";
import { expiryInstant, type CardRecord } from "./card-state.ts";
import { checkLineage } from "../card-numbers/lineage.ts";
import { normalizeChineseName, normalizeEnglishName } from "./name-digest.ts";
import type { RegisterContext } from "./register-context.ts";

export interface IssueCardData {
  number: string;
  issueCount?: number | null;
  validFrom: string;
  validUntil: string;
  previousNumber?: string | null;
  englishName: string;
  chineseName?: string | null;
  sex?: Sex | null;
}

/** A validated issuance, ready to apply. */
interface Issuance {
  number: string;
  issueCount: number;
  version: "V2017" | "V2023";
  provinceCode: string;
  nationality: string;
  birthDate: string;
  validFrom: string;
  validUntil: string;
  previousNumber: string | null;
  englishNameDigest: string;
  chineseNameDigest: string | null;
  sex: Sex | null;
  issueDigest: string;
}

function validateIssuance(ctx: RegisterContext, input: IssueCardData): Issuance {
  const parsed = requireCardNumber(input.number, "number", ctx.now());
  const issueCount = requireIssueCount(input.issueCount) ?? 0;
  requirePlausibleValidity(parsed.version!, input.validFrom, input.validUntil, ctx.now());
  const englishName = normalizeEnglishName(requireText(input.englishName, "englishName", 200, true)!);
  if (englishName === "") throw new HubError("BAD_USER_INPUT", "englishName has no letters", { field: "englishName" });
  const chineseRaw = requireText(input.chineseName, "chineseName", 100, false);
  const chineseName = chineseRaw === null ? null : normalizeChineseName(chineseRaw);
  const previousNumber = input.previousNumber ? requireLineage(requireCardNumber(input.previousNumber, "previousNumber", ctx.now()), parsed) : null;
  const canonical = [parsed.normalized, issueCount, input.validFrom, input.validUntil, previousNumber, englishName, chineseName, input.sex ?? null];
  return {
    number: parsed.normalized,
    issueCount,
    version: parsed.version!,
    provinceCode: parsed.province!.code,
    nationality: parsed.nationality!.numeric,
    birthDate: parsed.birthDate!,
    validFrom: input.validFrom,
    validUntil: input.validUntil,
    previousNumber,
    englishNameDigest: ctx.digester.digest("name.en", englishName),
    chineseNameDigest: chineseName ? ctx.digester.digest("name.zh", chineseName) : null,
    sex: input.sex ?? null,
    issueDigest: ctx.digester.digest("issue", JSON.stringify(canonical)),
  };
}

function requireLineage(previous: ReturnType<typeof requireCardNumber>, next: ReturnType<typeof requireCardNumber>): string {
  if (previous.version !== "V2017" || next.version !== "V2023") {
    throw new HubError("BAD_USER_INPUT", "previousNumber is for a switch from a V2017 card to a V2023 number", { field: "previousNumber" });
  }
  const lineage = checkLineage(previous, next);
  if (!lineage.consistent) {
    throw new HubError("BAD_USER_INPUT", `previousNumber does not match: ${lineage.reasons.join("; ")}`, { field: "previousNumber" });
  }
  return previous.normalized;
}

/**
 * Issues a card instance: a first card, a re-issue of a V2023 number with a higher issue count
 * (the earlier instance becomes SUPERSEDED), or a V2017 → V2023 switch (the V2017 card becomes
 * SUPERSEDED). An identical repeat returns the stored card; a different one is a CONFLICT.
 */
export function issueCard(ctx: RegisterContext, input: IssueCardData): CardRecord {
  const issuance = validateIssuance(ctx, input);
  return ctx.commit(() => {
    const instances = ctx.queries.instancesOf(issuance.number);
    const existing = instances.find((card) => card.issueCount === issuance.issueCount);
    if (existing) return repeatOf(ctx, existing, issuance);
    const at = ctx.now().toISOString();
    const holder = instances.length > 0 ? { id: reissueHolder(ctx, instances, issuance), isNew: false } : switchOrNewHolder(ctx, issuance, at);
    const holderId = holder.id;
    // A new holder was inserted with its names; an existing one takes the names of its newest card.
    if (!holder.isNew) ctx.write.setHolderNames.run({ id: holderId, english: issuance.englishNameDigest, chinese: issuance.chineseNameDigest });
    for (const earlier of instances) {
      if (earlier.state === "VALID") ctx.changeCardState(earlier, "SUPERSEDED", "CARD_SUPERSEDED", at);
    }
    // A re-issue keeps the lineage link of the instance it replaces.
    const previousNumber = issuance.previousNumber ?? instances[0]?.previousNumber ?? null;
    const { englishNameDigest: _en, chineseNameDigest: _zh, ...row } = issuance;
    // A first load without events stores cards already past validUntil as EXPIRED, so the expiry
    // sweep does not send partners an event for every old card of the register.
    const expired = !ctx.eventsEnabled && issuance.validUntil < ctx.today();
    const state = expired ? "EXPIRED" : "VALID";
    const stateChangedAt = expired ? expiryInstant(issuance.validUntil) : at;
    ctx.write.insertCard.run({ ...row, previousNumber, holderId, at, state, stateChangedAt });
    // Every path to here leaves an ACTIVE holder whose current number is this one.
    const card: CardRecord = {
      number: issuance.number,
      issueCount: issuance.issueCount,
      version: issuance.version,
      state,
      validFrom: issuance.validFrom,
      validUntil: issuance.validUntil,
      stateChangedAt,
      previousNumber,
      holderId,
      holderStatus: "ACTIVE",
      holderCurrentNumber: issuance.number,
    };
    ctx.recordEvent("CARD_ISSUED", card, null, at);
    return card;
  });
}

function repeatOf(ctx: RegisterContext, existing: CardRecord, issuance: Issuance): CardRecord {
  const stored = ctx.write.issueDigestOf.get({ number: existing.number, issueCount: existing.issueCount });
  if (stored?.issueDigest !== issuance.issueDigest) {
    throw new HubError("CONFLICT", `card ${existing.number} issue ${existing.issueCount} already exists with different details`);
  }
  return existing;
}

function requireActiveHolder(card: CardRecord): void {
  if (card.holderStatus !== "ACTIVE") {
    throw new HubError("CONFLICT", `the holder of ${card.number} is ${card.holderStatus}; no new card can be issued`);
  }
}

function reissueHolder(ctx: RegisterContext, instances: CardRecord[], issuance: Issuance): number {
  const latest = instances[0];
  if (latest.issueCount > issuance.issueCount) {
    throw new HubError("CONFLICT", `card ${latest.number} already has a newer instance (issue ${latest.issueCount}); a re-issue needs a higher issue count`);
  }
  if (latest.version === "V2017") {
    throw new HubError("CONFLICT", `V2017 number ${latest.number} cannot be re-issued; the holder switches to a V2023 number`);
  }
  if (issuance.previousNumber !== null && issuance.previousNumber !== latest.previousNumber) {
    throw new HubError("CONFLICT", `card ${latest.number} is already linked to another previous number`);
  }
  if (latest.holderCurrentNumber !== latest.number) {
    throw new HubError("CONFLICT", `the holder of ${latest.number} has moved to another number`);
  }
  requireActiveHolder(latest);
  return latest.holderId;
}

function switchOrNewHolder(ctx: RegisterContext, issuance: Issuance, at: string): { id: number; isNew: boolean } {
  if (issuance.previousNumber === null) {
    const { number, version, provinceCode, nationality, validFrom, englishNameDigest: english, chineseNameDigest: chinese } = issuance;
    const v2023Since = version === "V2023" ? validFrom : null;
    return { id: ctx.write.insertHolder.get({ at, number, version, provinceCode, nationality, validFrom, v2023Since, english, chinese })!.id, isNew: true };
  }
  const previous = ctx.queries.instancesOf(issuance.previousNumber);
  if (previous.length === 0) {
    throw new HubError("NOT_FOUND", `previousNumber ${issuance.previousNumber} is not on the register`);
  }
  const latest = previous[0];
  if (latest.holderCurrentNumber !== latest.number) {
    throw new HubError("CONFLICT", `${latest.number} has already been switched to another number`);
  }
  requireActiveHolder(latest);
  const { number, version, provinceCode, nationality, validFrom } = issuance;
  ctx.write.setHolderCurrent.run({ id: latest.holderId, number, version, provinceCode, nationality, validFrom });
  for (const old of previous) {
    if (old.state === "VALID") {
      ctx.changeCardState({ ...old, holderCurrentNumber: issuance.number }, "SUPERSEDED", "CARD_SUPERSEDED", at);
    }
  }
  return { id: latest.holderId, isNew: false };
}
