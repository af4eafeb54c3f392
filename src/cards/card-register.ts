import { HubError } from "../errors.ts";
import { requireCardNumber, requireIssueCount, requireText } from "./card-rules.ts";
import { effectiveState, HOLDER_STATUSES, type CardRecord, type HolderStatus } from "./card-state.ts";
import type { RegisterContext } from "./register-context.ts";

/** Holder statuses that end permanent residence for good. */
const FINAL_HOLDER_STATUSES: readonly HolderStatus[] = ["NATURALIZED", "DECEASED"];

function requireInstances(ctx: RegisterContext, number: string): CardRecord[] {
  const instances = ctx.queries.instancesOf(number);
  if (instances.length === 0) throw new HubError("NOT_FOUND", `card ${number} is not on the register`);
  return instances;
}

/**
 * Marks an instance (the latest unless `issueCount` names one) REPORTED_LOST. Repeating it is a
 * no-op; a revoked card stays revoked.
 */
export function reportCardLost(ctx: RegisterContext, numberInput: string, issueCountInput?: number | null): CardRecord {
  const number = requireCardNumber(numberInput, "number", ctx.now()).normalized;
  const issueCount = requireIssueCount(issueCountInput);
  return ctx.commit(() => {
    const instances = requireInstances(ctx, number);
    const card = issueCount === undefined ? instances[0] : instances.find((c) => c.issueCount === issueCount);
    if (!card) throw new HubError("NOT_FOUND", `card ${number} has no issue ${issueCount}`);
    if (card.state === "REPORTED_LOST") return card;
    if (card.state === "REVOKED") throw new HubError("CONFLICT", `card ${number} issue ${card.issueCount} is revoked`);
    ctx.changeCardState(card, "REPORTED_LOST", "CARD_REPORTED_LOST", ctx.now().toISOString());
    return ctx.queries.instancesOf(number).find((c) => c.issueCount === card.issueCount)!;
  });
}

/**
 * Revokes the latest instance of a number (or the one `issueCount` names, for imports that
 * replay history). Repeating with the same reason is a no-op.
 */
export function revokeCard(ctx: RegisterContext, numberInput: string, reasonInput: string, issueCountInput?: number | null): CardRecord {
  const number = requireCardNumber(numberInput, "number", ctx.now()).normalized;
  const reason = requireText(reasonInput, "reason", 500, true)!;
  const issueCount = requireIssueCount(issueCountInput);
  return ctx.commit(() => {
    const instances = requireInstances(ctx, number);
    const card = issueCount === undefined ? instances[0] : instances.find((c) => c.issueCount === issueCount);
    if (!card) throw new HubError("NOT_FOUND", `card ${number} has no issue ${issueCount}`);
    const instance = { number, issueCount: card.issueCount };
    if (card.state === "REVOKED") {
      const stored = ctx.write.revocationReasonOf.get(instance);
      if (stored?.reason === reason) return card;
      throw new HubError("CONFLICT", `card ${number} is already revoked for another reason`);
    }
    ctx.write.setRevocationReason.run({ ...instance, reason });
    ctx.changeCardState(card, "REVOKED", "CARD_REVOKED", ctx.now().toISOString());
    return ctx.queries.instancesOf(number).find((c) => c.issueCount === card.issueCount)!;
  });
}

/**
 * Sets the permanent-residence status of the holder of a card. NATURALIZED and DECEASED are
 * final. The event is logged on the holder's current card.
 */
export function setHolderStatus(ctx: RegisterContext, numberInput: string, status: HolderStatus, reasonInput?: string | null): CardRecord {
  const number = requireCardNumber(numberInput, "number", ctx.now()).normalized;
  if (!HOLDER_STATUSES.includes(status)) throw new HubError("BAD_USER_INPUT", "unknown holder status", { field: "status" });
  const reason = requireText(reasonInput, "reason", 500, false);
  return ctx.commit(() => {
    const card = requireInstances(ctx, number)[0];
    if (card.holderStatus === status) return card;
    if (FINAL_HOLDER_STATUSES.includes(card.holderStatus)) {
      throw new HubError("CONFLICT", `the holder of ${number} is ${card.holderStatus}, which is final`);
    }
    const at = ctx.now().toISOString();
    ctx.write.setHolderStatus.run({ id: card.holderId, status, at, reason });
    const current = ctx.queries.latestOf(card.holderCurrentNumber)!;
    ctx.recordEvent("HOLDER_STATUS_CHANGED", current, effectiveState(current, ctx.today()), at, { previousHolderStatus: card.holderStatus });
    return ctx.queries.latestOf(number)!;
  });
}
