import fs from "node:fs";
import type { HubConfig } from "../config.ts";
import { closeDatabase, openDatabase } from "../db/client.ts";
import { openPostgresPool } from "../db/pg-client.ts";
import { copyStore, StoreCopyError, type StoreCopyReport } from "../db/store-copy.ts";

/**
 * `fpr-hub store copy --to postgres://…`: the hub's SQLite database (DATA_DIR / DATABASE_PATH)
 * into an empty PostgreSQL database, all or nothing (src/db/store-copy.ts). The hub should be
 * stopped: the copy refuses a source being written to, and fails (writing nothing) when anything
 * was committed to it while it ran.
 */

/** Where the URL points, without its password: what messages name. */
function describeTarget(url: URL): string {
  return `${url.hostname || "localhost"}:${url.port || "5432"}${url.pathname}`;
}

function parseTarget(to: string): URL {
  let url: URL | null = null;
  try {
    url = new URL(to);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== "postgres:" && url.protocol !== "postgresql:")) {
    throw new StoreCopyError("--to must be a PostgreSQL URL: postgres://user:password@host:port/database");
  }
  return url;
}

/** pg's failures to connect, or the server's refusal, as one line naming the server. */
function asCopyError(error: unknown, target: string): unknown {
  if (error instanceof StoreCopyError) return error;
  const { code, message } = error as { code?: string; message?: string };
  if (code && /^E[A-Z]+$/.test(code)) return new StoreCopyError(`cannot reach PostgreSQL at ${target} (${code}); nothing was copied`, { cause: error });
  if (message && /timeout|terminated/i.test(message)) return new StoreCopyError(`cannot reach PostgreSQL at ${target} (${message}); nothing was copied`, { cause: error });
  if (code) return new StoreCopyError(`PostgreSQL at ${target} refused: ${message} [${code}]; nothing was copied`, { cause: error });
  return error;
}

function printReport(report: StoreCopyReport, target: string): void {
  const width = Math.max(...report.tables.map((table) => table.name.length));
  for (const table of report.tables) {
    const rate = table.rows > 0 && table.ms > 0 ? `, ${Math.round((table.rows / table.ms) * 1000)} rows/s` : "";
    console.log(`  ${table.name.padEnd(width)}  ${String(table.rows).padStart(9)} rows  (${(table.ms / 1000).toFixed(2)} s${rate})  counts equal`);
  }
  const total = report.tables.reduce((sum, table) => sum + table.rows, 0);
  console.log(`copied ${total} rows of ${report.tables.length} tables to ${target} in ${(report.ms / 1000).toFixed(1)} s; highest event sequence ${report.maxSequence} on both sides, the next event gets ${report.lastSequence + 1}`);
  console.log("webhook signing secrets were copied sealed under this hub's HUB_SECRET: a hub on this database must run with the same HUB_SECRET");
}

export async function runStoreCopy(config: HubConfig, to: string): Promise<void> {
  const url = parseTarget(to);
  const target = describeTarget(url);
  if (!fs.existsSync(config.databasePath)) {
    throw new StoreCopyError(`no hub database at ${config.databasePath} (set DATA_DIR or DATABASE_PATH to the hub's): nothing to copy`);
  }
  const source = openDatabase(config.databasePath);
  const pool = openPostgresPool({ url: url.toString(), maxConnections: 2, statementTimeoutMs: 60_000, connectTimeoutMs: 10_000, applicationName: "fpr-hub store copy" });
  try {
    const report = await copyStore(source, pool);
    printReport(report, target);
  } catch (error) {
    throw asCopyError(error, target);
  } finally {
    closeDatabase(source);
    await pool.end().catch(() => undefined);
  }
}
