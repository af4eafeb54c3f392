import type Database from "better-sqlite3";

/** Tables whose secondary indexes a first bulk load builds once at the end instead of row by row. */
const BULK_TABLES = ["holders", "cards"];

/**
 * Drops the secondary indexes of the register's tables (primary keys and unique constraints stay:
 * the load's own lookups use them), remembering each one's DDL in `deferred_indexes` in the same
 * transaction. Building an index once over sorted data is far cheaper than maintaining it per row.
 */
export function deferIndexes(sqlite: Database.Database): string[] {
  return sqlite.transaction(() => {
    const indexes = sqlite
      .prepare(`SELECT name, sql AS ddl FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'
                AND tbl_name IN (${BULK_TABLES.map(() => "?").join(", ")})`)
      .all(...BULK_TABLES) as { name: string; ddl: string }[];
    const remember = sqlite.prepare("INSERT OR REPLACE INTO deferred_indexes (name, ddl) VALUES (?, ?)");
    for (const index of indexes) {
      remember.run(index.name, index.ddl);
      sqlite.exec(`DROP INDEX "${index.name.replaceAll('"', '""')}"`);
    }
    return indexes.map((index) => index.name);
  }).immediate();
}

/** Rebuilds every deferred index (after a load, or at open after an interrupted one). Returns their names. */
export function restoreDeferredIndexes(sqlite: Database.Database): string[] {
  const pending = sqlite.prepare("SELECT name, ddl FROM deferred_indexes ORDER BY name").all() as { name: string; ddl: string }[];
  if (pending.length === 0) return [];
  return sqlite.transaction(() => {
    const exists = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?");
    for (const index of pending) {
      if (!exists.get(index.name)) sqlite.exec(index.ddl);
    }
    sqlite.prepare("DELETE FROM deferred_indexes").run();
    return pending.map((index) => index.name);
  }).immediate();
}
