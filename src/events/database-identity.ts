import crypto from "node:crypto";
import type { Statement } from "better-sqlite3";
import { inTransaction, type HubDb } from "../db/client.ts";

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
  #read: Statement | null = null;
  #highest: Statement | null = null;

  /** Prepared on first use: services may be built over a database an older hub left. */
  constructor(private readonly db: HubDb) {}

  /** The current identity (read afresh: another process may have renewed it). */
  get id(): string {
    return this.#load();
  }

  /** The highest sequence this database has handed out (deleted rows included). */
  highestSequence(): number {
    this.#highest ??= this.db.$client.prepare("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) AS seq");
    return (this.#highest.get() as { seq: number }).seq;
  }

  /**
   * Moves this database's next sequence past `mark` and renews its identity; returns whether it
   * was behind. Judged again inside the transaction: another process on this same database (the
   * api beside the worker) may have committed up to the mark since the caller read its sequence,
   * and that database is not behind anything.
   */
  continueAfter(mark: number): boolean {
    return inTransaction(this.db, () => {
      const sql = this.db.$client;
      if (sql.prepare("UPDATE sqlite_sequence SET seq = @mark WHERE name = 'events' AND seq < @mark").run({ mark }).changes === 0) {
        const inserted = sql.prepare("INSERT INTO sqlite_sequence (name, seq) SELECT 'events', @mark WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events')").run({ mark });
        if (inserted.changes === 0) return false;
      }
      sql.prepare("INSERT INTO hub_meta (key, value) VALUES ('database_id', @id) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run({ id: newId() });
      return true;
    });
  }

  #load(): string {
    this.#read ??= this.db.$client.prepare("SELECT value FROM hub_meta WHERE key = 'database_id'");
    const row = this.#read.get() as { value: string } | undefined;
    if (row) return row.value;
    this.db.$client.prepare("INSERT INTO hub_meta (key, value) VALUES ('database_id', ?) ON CONFLICT (key) DO NOTHING").run(newId());
    return (this.#read.get() as { value: string }).value;
  }
}

/** Short, random, and safe in a BullMQ job id (no `:`). */
function newId(): string {
  return `db${crypto.randomBytes(6).toString("base64url").replace(/[-_]/g, "x")}`;
}
