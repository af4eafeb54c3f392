import { preparedOnce, type HubDb } from "../db/client.ts";

/**
 * The statements of the database's identity: `database_id` in hub_meta, and the events table's
 * next sequence in sqlite_sequence. Each is prepared on first use: services may be built over a
 * database an older hub left.
 */
export class DatabaseIdentityStore {

  constructor(private readonly db: HubDb) {}

  /** The stored identity, if any. */
  readId(): string | undefined {
    return preparedOnce<[], { value: string }>(this.db, "SELECT value FROM hub_meta WHERE key = 'database_id'").get()?.value;
  }

  /** Stores `id` unless an identity is stored already (another process may have just stored one). */
  insertIdIfMissing(id: string): void {
    preparedOnce<[string]>(this.db, "INSERT INTO hub_meta (key, value) VALUES ('database_id', ?) ON CONFLICT (key) DO NOTHING").run(id);
  }

  /** Replaces the identity. */
  renewId(id: string): void {
    preparedOnce<[{ id: string }]>(this.db, "INSERT INTO hub_meta (key, value) VALUES ('database_id', @id) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run({ id });
  }

  /** The highest sequence handed out for events (deleted rows included); 0 before the first. */
  highestSequence(): number {
    return preparedOnce<[], { seq: number }>(this.db, "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) AS seq").get()!.seq;
  }

  /** Moves the events' next sequence past `mark`; false when it stands there already. */
  raiseSequenceTo(mark: number): boolean {
    if (preparedOnce<[{ mark: number }]>(this.db, "UPDATE sqlite_sequence SET seq = @mark WHERE name = 'events' AND seq < @mark").run({ mark }).changes > 0) return true;
    // No event was ever written: SQLite has no row for the table yet.
    const start = "INSERT INTO sqlite_sequence (name, seq) SELECT 'events', @mark WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events')";
    return preparedOnce<[{ mark: number }]>(this.db, start).run({ mark }).changes > 0;
  }
}
