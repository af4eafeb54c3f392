import type { Dialect, Statement, StatementParams } from "./statement.ts";

/**
 * The one interface stores run SQL through, the same for SQLite (sqlite-executor.ts) and
 * PostgreSQL (pg-executor.ts), so a store is written once and services are the same code on both.
 *
 * - Statements are defined once (statement.ts `defineStatement`, named `@parameters`, typed rows)
 *   and prepared once per connection: better-sqlite3's prepared statement, PostgreSQL's named one.
 * - `transaction(work)` runs `work` in one transaction that every call made inside it joins
 *   without being handed a connection: the open transaction travels with the async context
 *   (AsyncLocalStorage). A call outside it (another request) does not see or join it. Inside an
 *   open transaction, `transaction()` is a savepoint: its throw undoes only its own part.
 *   A throw rolls back, and the error reaches the caller unchanged.
 * - On SQLite (one connection) transactions run one at a time, BEGIN IMMEDIATE like
 *   `inTransaction`, and calls outside a transaction wait while one is open; on PostgreSQL each
 *   transaction takes a pooled connection of its own, at READ COMMITTED.
 * - Errors are the driver's own; storage trouble (disk full, busy, the server gone) is recognised
 *   by storage-errors.ts, so the edges answer SERVICE_UNAVAILABLE as they do today.
 */
export interface SqlExecutor {
  readonly dialect: Dialect;
  /** The first row, or undefined when there is none. */
  get<P extends StatementParams<P>, R>(statement: Statement<P, R>, ...params: ParamsArg<P>): Promise<R | undefined>;
  /** Every row. */
  all<P extends StatementParams<P>, R>(statement: Statement<P, R>, ...params: ParamsArg<P>): Promise<R[]>;
  /** A write; `changes` is the rows it inserted, updated or deleted. */
  run<P extends StatementParams<P>, R>(statement: Statement<P, R>, ...params: ParamsArg<P>): Promise<RunResult>;
  /** Runs `work` in a transaction (a savepoint inside an open one); commits when it resolves, rolls back when it throws. */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  /** Waits for the transaction in progress, then closes the connection (SQLite) or the pool (PostgreSQL). */
  close(): Promise<void>;
}

export interface RunResult {
  changes: number;
}

/** Statements without parameters may be called without them. */
export type ParamsArg<P> = [keyof P] extends [never] ? [params?: P] : [params: P];
