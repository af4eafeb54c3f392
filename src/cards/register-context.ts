import { and, eq } from "drizzle-orm";
import { inTransaction, type HubDb } from "../db/client.ts";
import { cards } from "../db/schema.ts";
import { appendEvent } from "../events/event-log.ts";
import type { EventData, EventType } from "../events/event-catalogue.ts";
import type { Digester } from "../hub-secret.ts";
import { CardQueries } from "./card-queries.ts";
import { chinaToday, effectiveState, type CardRecord, type CardState } from "./card-state.ts";

/** What the register's write paths share: the store, its prepared reads, the digest key, a clock. */
export class RegisterContext {
  readonly queries: CardQueries;
  /** Called after a transaction that logged events has committed (the outbox relay's kick). */
  afterEventsCommitted: (() => void) | null = null;
  #eventsLogged = 0;

  constructor(
    readonly db: HubDb,
    readonly digester: Digester,
    readonly now: () => Date = () => new Date(),
  ) {
    this.queries = new CardQueries(db);
  }

  /** Runs `work` in one transaction; events it logged are announced once it has committed. */
  commit<T>(work: () => T): T {
    const before = this.#eventsLogged;
    const result = inTransaction(this.db, work);
    if (this.#eventsLogged !== before) this.afterEventsCommitted?.();
    return result;
  }

  today(): string {
    return chinaToday(this.now());
  }

  /** Changes the stored state of one instance and logs the matching event, in the caller's transaction. */
  changeCardState(card: CardRecord, state: CardState, type: EventType, at: string, extra: Partial<EventData> = {}): void {
    this.db
      .update(cards)
      .set({ state, stateChangedAt: at })
      .where(and(eq(cards.number, card.number), eq(cards.issueCount, card.issueCount)))
      .run();
    // An expiry sweep records the stored state it replaces (reads already derived EXPIRED).
    const previous = state === "EXPIRED" ? card.state : effectiveState(card, this.today());
    this.recordEvent(type, { ...card, state }, previous, at, extra);
  }

  recordEvent(type: EventType, card: CardRecord, previousState: CardState | null, at: string, extra: Partial<EventData> = {}): number {
    this.#eventsLogged += 1;
    return appendEvent(this.db, {
      type,
      cardNumber: card.number,
      issueCount: card.issueCount,
      holderId: card.holderId,
      occurredAt: at,
      data: {
        cardNumber: card.number,
        issueCount: card.issueCount,
        version: card.version,
        state: effectiveState(card, this.today()),
        previousState,
        holderStatus: card.holderStatus,
        validUntil: card.validUntil,
        previousNumber: card.previousNumber,
        currentNumber: card.holderCurrentNumber,
        ...extra,
      },
    });
  }
}
