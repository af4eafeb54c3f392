import type { Statement } from "better-sqlite3";
import type { HubDb } from "../db/client.ts";

/**
 * The statements of the database's identity: `database_id` in hub_meta, and the events table's
 * next sequence in sqlite_sequence. Each is prepared on first use: services may be built over a
 * database an older hub left.
 */
export class DatabaseIdentityStore {
  #readId: Statement<[], { value: string }> | null = null;
  #insertIdIfMissing: Statement<[string]> | null = null;
  #renewId: Statement<[{ id: string }]> | null = null;
  #highest: Statement<[], { seq: number }> | null = null;
  #raiseSequence: Statement<[{ mark: number }]> | null = null;
  #startSequence: Statement<[{ mark: number }]> | null = null;

  constructor(private readonly db: HubDb) {}

  /** The stored identity, if any. */
  readId(): string | undefined {
    this.#readId ??= this.db.$client.prepare<[], { value: string }>("SELECT value FROM hub_meta WHERE key = 'database_id'");
    return this.#readId.get()?.value;
  }

  /** Stores `id` unless an identity is stored already (another process may have just stored one). */
  insertIdIfMissing(id: string): void {
    this.#insertIdIfMissing ??= this.db.$client.prepare<[string]>("INSERT INTO hub_meta (key, value) VALUES ('database_id', ?) ON CONFLICT (key) DO NOTHING");
    this.#insertIdIfMissing.run(id);
  }

  /** Replaces the identity. */
  renewId(id: string): void {
    this.#renewId ??= this.db.$client.prepare<[{ id: string }]>(
      "INSERT INTO hub_meta (key, value) VALUES ('database_id', @id) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    this.#renewId.run({ id });
  }

  /** The highest sequence handed out for events (deleted rows included); 0 before the first. */
  highestSequence(): number {
    this.#highest ??= this.db.$client.prepare<[], { seq: number }>("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) AS seq");
    return this.#highest.get()!.seq;
  }

  /** Moves the events' next sequence past `mark`; false when it stands there already. */
  raiseSequenceTo(mark: number): boolean {
    this.#raiseSequence ??= this.db.$client.prepare<[{ mark: number }]>("UPDATE sqlite_sequence SET seq = @mark WHERE name = 'events' AND seq < @mark");
    if (this.#raiseSequence.run({ mark }).changes > 0) return true;
    // No event was ever written: SQLite has no row for the table yet.
    this.#startSequence ??= this.db.$client.prepare<[{ mark: number }]>(
      "INSERT INTO sqlite_sequence (name, seq) SELECT 'events', @mark WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events')",
    );
    return this.#startSequence.run({ mark }).changes > 0;
  }
}
