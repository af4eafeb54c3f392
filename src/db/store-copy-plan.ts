import { getTableName, is } from "drizzle-orm";
import { getTableConfig as pgTableConfig, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import * as pgSchema from "./pg-schema.ts";
import * as schema from "./schema.ts";

/**
 * What `store copy` copies, read from the two table definitions rather than listed by hand: every
 * table of schema.ts, in an order where a table comes after the tables its foreign keys name, each
 * with its columns and their PostgreSQL types (the batches are sent as one array per column). A
 * table added to schema.ts is thus copied without a change here, and one missing from pg-schema.ts
 * stops the copy before anything is written.
 */

export interface CopiedColumn {
  name: string;
  /** The column's type in PostgreSQL (`text`, `integer`, `bigint`): the array type it is sent as. */
  pgType: string;
}

export interface CopiedTable {
  name: string;
  columns: CopiedColumn[];
  /** The identity column PostgreSQL numbers new rows with (SQLite's AUTOINCREMENT id), if any. */
  identity: string | null;
}

/**
 * Tables only PostgreSQL has; the copy sets them from what it copied instead. `event_sequence` is
 * the counter standing in for SQLite's `sqlite_sequence` row of `events` (src/db/README.md).
 */
export const POSTGRES_ONLY_TABLES = ["event_sequence"] as const;

/**
 * Tables whose rows are statements of SQLite's own dialect: they cannot be carried over, so the
 * copy refuses a source with rows there. `deferred_indexes` is non-empty only after an interrupted
 * first bulk load, and opening the hub's database rebuilds those indexes and empties it.
 */
export const SQLITE_DIALECT_TABLES = ["deferred_indexes"] as const;

const sqliteTables = (Object.values(schema) as unknown[]).filter((value): value is SQLiteTable => is(value, SQLiteTable));
const pgTables = new Map<string, PgTable>(
  (Object.values(pgSchema) as unknown[])
    .filter((value): value is PgTable => is(value, PgTable))
    .map((table) => [getTableName(table), table]),
);

function describeTable(table: SQLiteTable): CopiedTable {
  const name = getTableName(table);
  const target = pgTables.get(name);
  if (!target) throw new Error(`table ${name} has no PostgreSQL definition in pg-schema.ts`);
  const targetColumns = new Map(pgTableConfig(target).columns.map((column) => [column.name, column]));
  const columns = sqliteTableConfig(table).columns.map((column) => {
    const pgColumn = targetColumns.get(column.name);
    if (!pgColumn) throw new Error(`column ${name}.${column.name} has no PostgreSQL definition in pg-schema.ts`);
    return { name: column.name, pgType: pgColumn.getSQLType() };
  });
  if (columns.length !== targetColumns.size) throw new Error(`table ${name} has columns on PostgreSQL that SQLite lacks`);
  const identity = [...targetColumns.values()].find((column) => column.generatedIdentity !== undefined)?.name ?? null;
  return { name, columns, identity };
}

/** Tables in foreign-key order: each after every table it references. */
function inReferenceOrder(tables: SQLiteTable[]): SQLiteTable[] {
  const ordered: SQLiteTable[] = [];
  const visit = (table: SQLiteTable) => {
    if (ordered.includes(table)) return;
    for (const key of sqliteTableConfig(table).foreignKeys) {
      const referenced = key.reference().foreignTable;
      if (referenced !== table) visit(referenced);
    }
    ordered.push(table);
  };
  tables.forEach(visit);
  return ordered;
}

/** Every table of schema.ts, referenced tables first. */
export function copyPlan(): CopiedTable[] {
  return inReferenceOrder(sqliteTables).map(describeTable);
}
