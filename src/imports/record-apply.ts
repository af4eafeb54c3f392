import { issueCard } from "../cards/card-issuing.ts";
import { reportCardLost, revokeCard, setHolderStatus } from "../cards/card-register.ts";
import type { RegisterContext } from "../cards/register-context.ts";
import type { ImportRecord } from "./import-record.ts";

/**
 * Applies one record through the same service code as the GraphQL mutations, in one transaction
 * (a savepoint inside a batch): it applies whole or not at all. Returns whether anything changed.
 */
export function applyRecord(ctx: RegisterContext, record: ImportRecord): boolean {
  const before = ctx.changeCount;
  ctx.commit(() => {
    const card = issueCard(ctx, record.card);
    if (record.state === "REPORTED_LOST") reportCardLost(ctx, card.number, card.issueCount);
    if (record.state === "REVOKED") revokeCard(ctx, card.number, record.revocationReason!, card.issueCount);
    if (record.holderStatus) setHolderStatus(ctx, card.number, record.holderStatus);
  });
  return ctx.changeCount !== before;
}
