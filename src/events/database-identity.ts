import crypto from "node:crypto";
import { inTransaction, type HubDb } from "../db/client.ts";
import { DatabaseIdentityStore } from "./database-identity.store.ts";

/**
 * The identity of this database, and the guard that keeps event ids unique across its lives.
 *
 * Partners dedupe webhooks on `webhook-id` (`evt_<sequence>`) and page `changes` by sequence, so
 * an event id must never name two different events. A database restored from a backup, or a new
 * one started on a Redis an earlier one used, would count its sequences again from where it
 * stands. Redis keeps a high-water mark: the highest sequence any database of this hub (this
 * queue prefix) has committed and handed over. When this database stands below it, its next
 * events continue after the mark, and its identity is renewed: job ids carry the identity, so
 * nothing its earlier life left in Redis is taken for one of its jobs.
 */
export class DatabaseIdentity {
  readonly #store: DatabaseIdentityStore;

  /** Its statements are prepared on first use: services may be built over a database an older hub left. */
  constructor(private readonly db: HubDb) {
    this.#store = new DatabaseIdentityStore(db);
  }

  /** The current identity (read afresh: another process may have renewed it). */
  get id(): string {
    return this.#load();
  }

  /** The highest sequence this database has handed out (deleted rows included). */
  highestSequence(): number {
    return this.#store.highestSequence();
  }

  /**
   * Moves this database's next sequence past `mark` and renews its identity; returns whether it
   * was behind. Judged again inside the transaction: another process on this same database (the
   * api beside the worker) may have committed up to the mark since the caller read its sequence,
   * and that database is not behind anything.
   */
  continueAfter(mark: number): boolean {
    return inTransaction(this.db, () => {
      if (!this.#store.raiseSequenceTo(mark)) return false;
      this.#store.renewId(newId());
      return true;
    });
  }

  #load(): string {
    const stored = this.#store.readId();
    if (stored !== undefined) return stored;
    this.#store.insertIdIfMissing(newId());
    return this.#store.readId()!;
  }
}

/** Short, random, and safe in a BullMQ job id (no `:`). */
function newId(): string {
  return `db${crypto.randomBytes(6).toString("base64url").replace(/[-_]/g, "x")}`;
}
