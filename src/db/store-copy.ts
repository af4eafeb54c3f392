import type pg from "pg";
import type { HubDb } from "./client.ts";
import { migratePostgres } from "./pg-client.ts";
import { copyPlan, POSTGRES_ONLY_TABLES, SQLITE_DIALECT_TABLES, type CopiedTable } from "./store-copy-plan.ts";
import { SqliteSnapshot, StoreCopyError } from "./store-copy-source.ts";

export { StoreCopyError } from "./store-copy-source.ts";

/**
 * `store copy`: the whole SQLite store into an empty PostgreSQL database, in one PostgreSQL
 * transaction (all or nothing), read from one SQLite snapshot. Rows keep their keys, ids and event
 * sequences; values are copied as stored (key digests, sealed webhook secrets, the database
 * identity in hub_meta). Each table goes over in batches of one array per column
 * (`INSERT … SELECT FROM unnest(…)`: one statement and a handful of parameters per batch, whatever
 * its size). Afterwards the identity columns and the event counter are moved past what was copied,
 * and counts and the highest sequence are compared on both sides before the commit.
 */

export interface CopiedTableReport {
  name: string;
  rows: number;
  ms: number;
}

export interface StoreCopyReport {
  tables: CopiedTableReport[];
  /** The highest event sequence copied (0 without events). */
  maxSequence: number;
  /** Where the PostgreSQL event counter now stands: the next event gets this + 1. */
  lastSequence: number;
  ms: number;
}

export interface StoreCopyOptions {
  /** Rows per INSERT. */
  batchRows?: number;
  /** Told of each table once it is copied (before the commit). */
  onTable?: (report: CopiedTableReport) => void;
}

const DEFAULT_BATCH_ROWS = 5_000;

/** Migration drizzle/pg/0001_event_sequence.sql's trigger, which numbers new events. */
const EVENT_SEQUENCE_TRIGGER = "events_assign_sequence";

const pgName = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Copies everything; on any failure PostgreSQL is rolled back and the error reaches the caller. */
export async function copyStore(source: HubDb, pool: pg.Pool, options: StoreCopyOptions = {}): Promise<StoreCopyReport> {
  const started = performance.now();
  const plan = copyPlan();
  await migratePostgres(pool);
  const snapshot = new SqliteSnapshot(source.$client);
  const client = await pool.connect();
  let broken = false;
  try {
    snapshot.begin();
    await client.query("BEGIN");
    // A large copy may take longer than the pool's statement timeout.
    await client.query("SET LOCAL statement_timeout = 0");
    const result = await copyInTransaction(snapshot, client, plan, options);
    snapshot.finish();
    await client.query("COMMIT");
    return { ...result, ms: performance.now() - started };
  } catch (error) {
    snapshot.abandon();
    await client.query("ROLLBACK").catch(() => (broken = true));
    throw error;
  } finally {
    client.release(broken);
  }
}

async function copyInTransaction(snapshot: SqliteSnapshot, client: pg.PoolClient, plan: CopiedTable[], options: StoreCopyOptions) {
  const targetTables = [...plan.map((table) => table.name), ...POSTGRES_ONLY_TABLES];
  // No one writes the target while it is checked and filled (another copy started at once waits here).
  await client.query(`LOCK TABLE ${targetTables.map(pgName).join(", ")} IN EXCLUSIVE MODE`);
  await refuseNonEmpty(client, plan);
  refuseDialectRows(snapshot);
  const tables: CopiedTableReport[] = [];
  // The sequence trigger updates the one counter row per event: within one transaction each update
  // walks the row's earlier versions, so 100,000 events took a minute. The target is locked and its
  // counter at 0, and the copied sequences are set in one step below; ALTER TABLE is transactional,
  // so a failed copy leaves the trigger as it was.
  await client.query(`ALTER TABLE events DISABLE TRIGGER ${EVENT_SEQUENCE_TRIGGER}`);
  for (const table of plan) {
    const report = await copyTable(snapshot, client, table, options.batchRows ?? DEFAULT_BATCH_ROWS);
    options.onTable?.(report);
    tables.push(report);
  }
  await client.query(`ALTER TABLE events ENABLE TRIGGER ${EVENT_SEQUENCE_TRIGGER}`);
  for (const table of plan) if (table.identity) await moveIdentity(snapshot, client, table.name, table.identity);
  const maxSequence = snapshot.max("events", "sequence");
  const lastSequence = Math.max(maxSequence, snapshot.autoincrementMark("events"));
  await client.query("UPDATE event_sequence SET last_sequence = GREATEST(last_sequence, $1) WHERE id = 1", [lastSequence]);
  await verify(snapshot, client, tables, maxSequence, lastSequence);
  return { tables, maxSequence, lastSequence };
}

/** Any row in any hub table (or an event counter already moved) makes the target not empty. */
async function refuseNonEmpty(client: pg.PoolClient, plan: CopiedTable[]): Promise<void> {
  for (const table of plan) {
    const { rowCount } = await client.query(`SELECT 1 FROM ${pgName(table.name)} LIMIT 1`);
    if (rowCount) throw new StoreCopyError(`the target database is not empty: table ${table.name} has rows; copy into a new, empty database`);
  }
  const { rows } = await client.query<{ last: number }>("SELECT last_sequence AS last FROM event_sequence WHERE id = 1");
  if ((rows[0]?.last ?? 0) !== 0) {
    throw new StoreCopyError(`the target database is not empty: event_sequence has handed out sequences up to ${rows[0].last}; copy into a new, empty database`);
  }
}

function refuseDialectRows(snapshot: SqliteSnapshot): void {
  for (const name of SQLITE_DIALECT_TABLES) {
    if (snapshot.count(name) > 0) throw new StoreCopyError(`the source has rows in ${name} (an interrupted bulk load): open the hub once to rebuild its indexes, then copy`);
  }
}

async function copyTable(snapshot: SqliteSnapshot, client: pg.PoolClient, table: CopiedTable, batchRows: number): Promise<CopiedTableReport> {
  const started = performance.now();
  const names = table.columns.map((column) => pgName(column.name)).join(", ");
  const arrays = table.columns.map((column, i) => `$${i + 1}::${column.pgType}[]`).join(", ");
  // WITH ORDINALITY: rows go in in the source's order (the rowid order they were read in).
  const text = `INSERT INTO ${pgName(table.name)} (${names}) SELECT ${table.columns.map((_, i) => `c${i}`).join(", ")}
    FROM unnest(${arrays}) WITH ORDINALITY AS t(${table.columns.map((_, i) => `c${i}`).join(", ")}, n) ORDER BY n`;
  let rows = 0;
  try {
    for (const batch of snapshot.batches(table, batchRows)) {
      const columns = table.columns.map((_, i) => batch.map((row) => row[i]));
      await client.query(text, columns);
      rows += batch.length;
    }
  } catch (error) {
    if (error instanceof StoreCopyError) throw error;
    throw new StoreCopyError(`copying table ${table.name} failed after ${rows} rows: ${(error as Error).message}`, { cause: error });
  }
  return { name: table.name, rows, ms: performance.now() - started };
}

/** New rows get ids above every copied one and every one SQLite ever handed out (AUTOINCREMENT). */
async function moveIdentity(snapshot: SqliteSnapshot, client: pg.PoolClient, table: string, column: string): Promise<void> {
  const last = Math.max(snapshot.max(table, column), snapshot.autoincrementMark(table));
  if (last === 0) return;
  await client.query("SELECT setval(pg_get_serial_sequence($1, $2), $3, true)", [pgName(table), column, last]);
}

async function verify(snapshot: SqliteSnapshot, client: pg.PoolClient, tables: CopiedTableReport[], maxSequence: number, lastSequence: number): Promise<void> {
  for (const table of tables) {
    const source = snapshot.count(table.name);
    const { rows } = await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${pgName(table.name)}`);
    if (rows[0].n !== source || table.rows !== source) {
      throw new StoreCopyError(`verification failed: table ${table.name} has ${source} rows in SQLite, ${rows[0].n} in PostgreSQL`);
    }
  }
  const { rows } = await client.query<{ max: number; last: number }>(
    "SELECT (SELECT coalesce(max(sequence), 0) FROM events) AS max, (SELECT last_sequence FROM event_sequence WHERE id = 1) AS last",
  );
  if (rows[0].max !== maxSequence || rows[0].last !== lastSequence) {
    throw new StoreCopyError(`verification failed: highest event sequence ${maxSequence} in SQLite, ${rows[0].max} in PostgreSQL (counter ${rows[0].last})`);
  }
}
