import { expiryInstant, type CardRecord } from "./card-state.ts";
import type { RegisterContext } from "./register-context.ts";

const BATCH = 500;

/**
 * Marks VALID cards whose validUntil has passed (in China) as EXPIRED, one CARD_EXPIRED event per
 * instance. Only VALID rows are touched, so running it twice changes nothing the second time.
 * Yields to the event loop between batches, so an api in the same process keeps answering.
 * Returns how many instances expired.
 */
export async function expireDueCards(ctx: RegisterContext): Promise<number> {
  let expired = 0;
  for (;;) {
    const batch = ctx.commit(() => {
      const due = ctx.queries.dueForExpiry(ctx.today(), BATCH);
      for (const { number, issueCount } of due) {
        const card = ctx.queries.instancesOf(number).find((c) => c.issueCount === issueCount) as CardRecord;
        ctx.changeCardState(card, "EXPIRED", "CARD_EXPIRED", expiryInstant(card.validUntil));
      }
      return due.length;
    });
    expired += batch;
    if (batch < BATCH) return expired;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
