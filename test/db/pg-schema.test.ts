import { is, type SQL } from "drizzle-orm";
import { getTableConfig as pgTableConfig, PgDialect, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteTableConfig, SQLiteSyncDialect, SQLiteTable } from "drizzle-orm/sqlite-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import { closePostgresDatabase, openPostgresDatabase, type PgHubDb } from "../../src/db/pg-client.ts";
import * as pgSchema from "../../src/db/pg-schema.ts";
import * as sqliteSchema from "../../src/db/schema.ts";
import { createScratchDatabase, type ScratchDatabase } from "./pg-scratch-database.ts";

/** Tables only the PostgreSQL dialect has, and why: the commit-order counter of event sequences. */
const PG_ONLY_TABLES = ["event_sequence"];
/** Where SQLite's AUTOINCREMENT is matched by a trigger rather than an identity column (see pg-schema.ts). */
const PG_TRIGGER_ASSIGNED = new Set(["events.sequence"]);

type AnyColumn = { name: string; notNull: boolean; primary: boolean; default: unknown; getSQLType(): string };
type AnyIndex = { config: { name?: string; unique: boolean; columns: unknown[]; where?: SQL } };

/** integer and bigint are one family: SQLite's INTEGER holds both. */
const family = (sqlType: string) => (/int/i.test(sqlType) ? "integer" : sqlType.toLowerCase());

function describeTable(
  config: { name: string; columns: AnyColumn[]; indexes: AnyIndex[]; primaryKeys: { columns: { name: string }[] }[] },
  isGenerated: (column: AnyColumn) => boolean,
  render: (where: SQL) => string,
) {
  const composite = config.primaryKeys.map((key) => key.columns.map((column) => column.name));
  return {
    columns: Object.fromEntries(config.columns.map((column) => [column.name, {
      type: family(column.getSQLType()),
      notNull: column.notNull,
      default: column.default ?? null,
      generated: isGenerated(column),
    }])),
    primaryKey: composite[0] ?? config.columns.filter((column) => column.primary).map((column) => column.name),
    indexes: Object.fromEntries(config.indexes.map(({ config: index }) => [index.name, {
      unique: index.unique,
      columns: index.columns.map((column) => (column as { name: string }).name),
      where: index.where ? render(index.where) : null,
    }])),
  };
}

function sqliteTables() {
  const dialect = new SQLiteSyncDialect();
  const tables = Object.values(sqliteSchema).filter((value) => is(value, SQLiteTable)).map((table) => sqliteTableConfig(table));
  return Object.fromEntries(tables.map((config) => [config.name, {
    ...describeTable(config, (column) => (column as { autoIncrement?: boolean }).autoIncrement === true, (where) => dialect.sqlToQuery(where).sql),
    foreignKeys: config.foreignKeys.map((key) => key.reference()).map((ref) => `${ref.columns.map((c) => c.name)} -> ${sqliteTableConfig(ref.foreignTable).name}.${ref.foreignColumns.map((c) => c.name)}`),
  }]));
}

function pgTables() {
  const dialect = new PgDialect();
  const tables = Object.values(pgSchema).filter((value) => is(value, PgTable)).map((table) => pgTableConfig(table));
  return Object.fromEntries(tables.map((config) => [config.name, {
    ...describeTable(
      config,
      (column) => (column as { generatedIdentity?: unknown }).generatedIdentity !== undefined || PG_TRIGGER_ASSIGNED.has(`${config.name}.${column.name}`),
      (where) => dialect.sqlToQuery(where).sql,
    ),
    foreignKeys: config.foreignKeys.map((key) => key.reference()).map((ref) => `${ref.columns.map((c) => c.name)} -> ${pgTableConfig(ref.foreignTable).name}.${ref.foreignColumns.map((c) => c.name)}`),
  }]));
}

describe("PostgreSQL schema beside SQLite's", () => {
  it("has the same tables, columns (type family, null, default, generated), keys, foreign keys and indexes", () => {
    const pgOnes = pgTables();
    for (const name of PG_ONLY_TABLES) delete pgOnes[name];
    expect(pgOnes).toEqual(sqliteTables());
  });
});

/**
 * What a database holds: each table's column names (sorted: SQLite appends columns added by a later
 * migration, so the order differs; store SQL names its columns), and the secondary index names.
 */
async function pgCatalogue(db: PgHubDb) {
  const columns = await db.$client.query<{ table_name: string; column_name: string }>(
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name",
  );
  const indexes = await db.$client.query<{ indexname: string }>(`
    SELECT c.relname AS indexname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND NOT i.indisprimary ORDER BY 1`);
  const tables: Record<string, string[]> = {};
  for (const row of columns.rows) (tables[row.table_name] ??= []).push(row.column_name);
  return { tables, indexes: indexes.rows.map((row) => row.indexname) };
}

function sqliteCatalogue() {
  const db = openDatabase(":memory:");
  try {
    const names = db.$client.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name").pluck().all() as string[];
    const tables = Object.fromEntries(names.map((name) => [name, db.$client.prepare("SELECT name FROM pragma_table_info(?) ORDER BY name").pluck().all(name) as string[]]));
    const indexes = db.$client.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").pluck().all() as string[];
    return { tables, indexes };
  } finally {
    db.$client.close();
  }
}

describe("PostgreSQL migrations on a fresh database", () => {
  let scratch: ScratchDatabase;
  let db: PgHubDb;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    db = await openPostgresDatabase(scratch.options());
  });
  afterAll(async () => {
    if (db) await closePostgresDatabase(db);
    await scratch?.drop();
  });

  it("produce every table, column and index of the SQLite database, plus the sequence counter", async () => {
    const got = await pgCatalogue(db);
    const sqlite = sqliteCatalogue();
    expect(got.tables).toEqual({ ...sqlite.tables, event_sequence: ["id", "last_sequence"] });
    expect(got.indexes.sort()).toEqual(sqlite.indexes.sort());
  });

  it("seed the counter at zero and read int8 as JS numbers", async () => {
    const { rows } = await db.$client.query("SELECT id, last_sequence AS last, count(*) OVER () AS n FROM event_sequence");
    expect(rows).toEqual([{ id: 1, last: 0, n: 1 }]);
    await expect(db.$client.query("SELECT 9007199254740993::bigint AS big")).rejects.toThrow(/does not fit a JS number/);
  });
});
