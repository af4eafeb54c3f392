import { inTransaction, type HubDb } from "../db/client.ts";
import { NO_STORAGE_REPORTER, storageTroubleOf, storageUnavailable, type StorageReporter } from "../db/storage-errors.ts";
import type { EventData, EventType } from "../events/event-catalogue.ts";
import type { Digester } from "../hub-secret.ts";
import { chinaToday } from "../china-date.ts";
import { CardQueries } from "./card-queries.ts";
import { effectiveState, type CardRecord, type CardState } from "./card-state.ts";
import { prepareRegisterStatements, type RegisterStatements } from "./register.store.ts";

/** What the register's write paths share: the store, its prepared reads, the digest key, a clock. */
export class RegisterContext {
  readonly queries: CardQueries;
  /** Prepared writes. */
  readonly write: RegisterStatements;
  /**
   * Off only for the very first bulk load of an empty register (`import --no-events`): changes
   * are still counted, but no events are logged, so partners are not sent the whole register.
   */
  eventsEnabled = true;
  #changes = 0;

  constructor(
    readonly db: HubDb,
    readonly digester: Digester,
    readonly now: () => Date = () => new Date(),
    private readonly storage: StorageReporter = NO_STORAGE_REPORTER,
    /** Called after a transaction that logged events has committed (the outbox relay's kick). */
    private readonly afterEventsCommitted: (() => void) | null = null,
  ) {
    this.queries = new CardQueries(db);
    this.write = prepareRegisterStatements(db);
  }

  /**
   * Set by a bulk import while it applies records straight into its own batch transaction (no
   * savepoint per record): the import itself then guarantees that a failed record left no write.
   */
  inBatch = false;

  /**
   * Runs `work` in one transaction; events it logged are announced once it has committed. When
   * storage fails (disk full, busy), the transaction rolls back whole, so the register is as it
   * was, and the caller gets SERVICE_UNAVAILABLE: the same change succeeds once storage is back.
   */
  commit<T>(work: () => T): T {
    if (this.inBatch) return work();
    const before = this.#changes;
    let result: T;
    try {
      result = inTransaction(this.db, work);
    } catch (error) {
      this.#changes = before; // nothing was changed
      const trouble = storageTroubleOf(error);
      if (!trouble) throw error;
      this.storage.recordStorageError("register", error, { retrying: false });
      throw storageUnavailable(trouble);
    }
    this.storage.recordStorageOk("register");
    if (this.#changes !== before && this.eventsEnabled) this.afterEventsCommitted?.();
    return result;
  }

  /** How many state changes have been made through this context (imports tell created from unchanged). */
  get changeCount(): number {
    return this.#changes;
  }

  today(): string {
    return chinaToday(this.now());
  }

  /** Changes the stored state of one instance and logs the matching event, in the caller's transaction. */
  changeCardState(card: CardRecord, state: CardState, type: EventType, at: string, extra: Partial<EventData> = {}): void {
    this.write.setCardState.run({ state, at, number: card.number, issueCount: card.issueCount });
    // An expiry sweep records the stored state it replaces (reads already derived EXPIRED).
    const previous = state === "EXPIRED" ? card.state : effectiveState(card, this.today());
    this.recordEvent(type, { ...card, state }, previous, at, extra);
  }

  recordEvent(type: EventType, card: CardRecord, previousState: CardState | null, at: string, extra: Partial<EventData> = {}): number {
    this.#changes += 1;
    if (!this.eventsEnabled) return 0;
    const data: EventData = {
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
    };
    return this.write.insertEvent.get({
      type,
      cardNumber: card.number,
      issueCount: card.issueCount,
      holderId: card.holderId,
      occurredAt: at,
      data: JSON.stringify(data),
    })!.sequence;
  }
}
