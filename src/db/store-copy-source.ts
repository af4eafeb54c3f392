import type Database from "better-sqlite3";
import type { CopiedTable } from "./store-copy-plan.ts";

/**
 * The SQLite side of `store copy`: one read transaction, so every table is read from the same
 * snapshot (WAL keeps it while the copy runs, whatever another connection commits meanwhile), and
 * a check that nothing was committed to the file by anyone else while the copy ran.
 */

/** Thrown for every reason the copy stops: a one-line message the operator can act on. */
export class StoreCopyError extends Error {
  override readonly name = "StoreCopyError";
}

const sqliteName = (name: string) => `"${name.replaceAll('"', '""')}"`;

export class SqliteSnapshot {
  private dataVersion = 0;

  constructor(private readonly db: Database.Database) {}

  /**
   * Refuses a source being written to right now (its write lock held: the hub is running and
   * busy), then opens the read transaction. A hub that is running but idle is caught by `finish`.
   */
  begin(): void {
    const busyTimeout = this.db.pragma("busy_timeout", { simple: true });
    this.db.pragma("busy_timeout = 0");
    try {
      this.db.exec("BEGIN IMMEDIATE");
      this.db.exec("ROLLBACK");
    } catch (error) {
      if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
      throw new StoreCopyError("the source database is being written to (is the hub running?): stop the hub, then copy");
    } finally {
      this.db.pragma(`busy_timeout = ${Number(busyTimeout)}`);
    }
    this.dataVersion = this.readDataVersion();
    this.db.exec("BEGIN");
    // The snapshot is taken at the first read, not at BEGIN.
    this.db.prepare("SELECT count(*) FROM sqlite_master").get();
  }

  count(table: string): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM ${sqliteName(table)}`).get() as { n: number }).n;
  }

  /** The highest value of `column` in the snapshot, 0 when the table is empty. */
  max(table: string, column: string): number {
    const row = this.db.prepare(`SELECT coalesce(max(${sqliteName(column)}), 0) AS m FROM ${sqliteName(table)}`).get() as { m: number };
    return row.m;
  }

  /** SQLite's AUTOINCREMENT mark for a table: the highest id ever handed out (deleted rows included). */
  autoincrementMark(table: string): number {
    const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = ?").get(table) as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /** The table's rows in batches of `size`, each row an array in the plan's column order. */
  *batches(table: CopiedTable, size: number): Generator<unknown[][]> {
    const columns = table.columns.map((column) => sqliteName(column.name)).join(", ");
    const page = this.db.prepare(`SELECT rowid, ${columns} FROM ${sqliteName(table.name)} WHERE rowid > ? ORDER BY rowid LIMIT ?`).raw();
    let after = -Infinity;
    for (;;) {
      const rows = page.all(after, size) as unknown[][];
      if (rows.length === 0) return;
      after = rows[rows.length - 1][0] as number;
      yield rows.map((row) => row.slice(1));
      if (rows.length < size) return;
    }
  }

  /** Ends the read transaction; fails when another connection committed to the file meanwhile. */
  finish(): void {
    this.db.exec("COMMIT");
    if (this.readDataVersion() !== this.dataVersion) {
      throw new StoreCopyError("the source database changed during the copy (is the hub still running?): stop the hub, then copy again");
    }
  }

  abandon(): void {
    if (this.db.inTransaction) this.db.exec("ROLLBACK");
  }

  private readDataVersion(): number {
    return Number(this.db.pragma("data_version", { simple: true }));
  }
}
