import type Database from "better-sqlite3";
import type { HubDb } from "./client.ts";
import { ConnectionLock } from "./connection-lock.ts";
import type { ParamsArg, RunResult, SqlExecutor } from "./executor.ts";
import { bindValues, type Statement, type StatementParams } from "./statement.ts";
import { StorageTroubleError } from "./storage-errors.ts";
import { TransactionScope, type TransactionSession } from "./transaction-scope.ts";

/**
 * The SqlExecutor over an opened HubDb's better-sqlite3 connection: the same connection the
 * synchronous stores use, so both can run side by side while the stores are converted.
 * better-sqlite3 is synchronous; each call runs at once unless a transaction holds the connection,
 * and answers with a settled promise.
 */

export interface SqliteExecutorOptions {
  /**
   * How long a call waits for the transaction holding the connection before failing as "busy"
   * (SERVICE_UNAVAILABLE), as SQLite's own busy_timeout (5 s, client.ts) does for another process.
   * Also what turns a call that escaped its transaction's context, and so waits for it, into an error rather than a hang.
   */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** One executor per connection: its lock is what keeps two transactions apart. */
const executors = new WeakMap<Database.Database, SqlExecutor>();

/** The executor of `db`'s connection (made on first call; `options` apply to that first call only). */
export function sqliteExecutor(db: HubDb, options: SqliteExecutorOptions = {}): SqlExecutor {
  let executor = executors.get(db.$client);
  if (!executor) {
    executor = new SqliteExecutor(db.$client, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    executors.set(db.$client, executor);
  }
  return executor;
}

type AnyStatement = Statement<unknown, unknown>;

class SqliteExecutor implements SqlExecutor {
  readonly dialect = "sqlite" as const;
  readonly #lock = new ConnectionLock();
  readonly #scope = new TransactionScope<TransactionSession>();
  /** Prepared once per statement; BEGIN, COMMIT and savepoint statements by their text. */
  readonly #prepared = new WeakMap<AnyStatement, Database.Statement>();
  readonly #control = new Map<string, Database.Statement>();
  /** The one connection is every transaction's session. */
  readonly #session: TransactionSession = {
    exec: (sql) => this.#exec(sql),
    rollback: () => this.#rollback(),
  };

  constructor(
    private readonly connection: Database.Database,
    private readonly busyTimeoutMs: number,
  ) {}

  get<P extends StatementParams<P>, R>(statement: Statement<P, R>, ...[params]: ParamsArg<P>): Promise<R | undefined> {
    return this.#onConnection(() => {
      const prepared = this.#prepare(statement);
      const values = bindValues(statement.sqlite, params);
      if (!prepared.reader) return void prepared.run(values);
      // A write's RETURNING row is read to the end: in autocommit its COMMIT happens at the last
      // step, whose error (SQLITE_FULL) get() would never see (client.ts writeReturning).
      return (prepared.readonly ? prepared.get(values) : prepared.all(values)[0]) as R | undefined;
    });
  }

  all<P extends StatementParams<P>, R>(statement: Statement<P, R>, ...[params]: ParamsArg<P>): Promise<R[]> {
    return this.#onConnection(() => {
      const prepared = this.#prepare(statement);
      const values = bindValues(statement.sqlite, params);
      if (prepared.reader) return prepared.all(values) as R[];
      prepared.run(values);
      return [];
    });
  }

  run<P extends StatementParams<P>, R>(statement: Statement<P, R>, ...[params]: ParamsArg<P>): Promise<RunResult> {
    return this.#onConnection(() => {
      const prepared = this.#prepare(statement);
      const values = bindValues(statement.sqlite, params);
      // run() refuses a statement that returns rows; with RETURNING, each row is one changed row.
      if (prepared.reader) return { changes: prepared.all(values).length };
      return { changes: prepared.run(values).changes };
    });
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    const open = this.#scope.current();
    if (open) return this.#scope.nest(open, work);
    await this.#acquire();
    try {
      // IMMEDIATE: the write lock at BEGIN, so two processes' writers never deadlock (client.ts).
      return await this.#scope.run(this.#session, "BEGIN IMMEDIATE", work);
    } finally {
      this.#lock.release();
    }
  }

  async close(): Promise<void> {
    await this.#lock.acquire();
    try {
      this.connection.close();
    } finally {
      this.#lock.release();
    }
  }

  #rollback(): void {
    try {
      // SQLite may already have rolled back on its own (a full disk, an I/O error).
      if (this.connection.inTransaction) this.#exec("ROLLBACK");
    } catch {
      // The work's error is the one to report; the next BEGIN says the connection is stuck.
    }
  }

  /** The scope's control statements (BEGIN, COMMIT, SAVEPOINT …), each prepared once. */
  #exec(sql: string): void {
    let prepared = this.#control.get(sql);
    if (!prepared) {
      prepared = this.connection.prepare(sql);
      this.#control.set(sql, prepared);
    }
    prepared.run();
  }

  /**
   * Runs `step` on the connection: at once inside the caller's transaction or when no transaction
   * holds it; otherwise once that transaction has ended (nothing outside a transaction may run in it).
   */
  async #onConnection<T>(step: () => T): Promise<T> {
    if (this.#scope.current()) {
      // Statements must not slip into autocommit because SQLite ended the transaction under them.
      if (!this.connection.inTransaction) throw new Error("The transaction is no longer active: SQLite rolled it back after an error");
      return step();
    }
    if (this.#lock.isFree) return step();
    await this.#acquire();
    try {
      return step();
    } finally {
      this.#lock.release();
    }
  }

  async #acquire(): Promise<void> {
    if (await this.#lock.acquire(this.busyTimeoutMs)) return;
    throw new StorageTroubleError("busy", `The SQLite connection stayed in another transaction for ${this.busyTimeoutMs} ms`);
  }

  #prepare(statement: AnyStatement): Database.Statement {
    let prepared = this.#prepared.get(statement);
    if (!prepared) {
      prepared = this.connection.prepare(statement.sqlite.text);
      this.#prepared.set(statement, prepared);
    }
    return prepared;
  }
}
