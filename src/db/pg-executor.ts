import type pg from "pg";
import type { ParamsArg, RunResult, SqlExecutor } from "./executor.ts";
import { bindValues, type Statement, type StatementParams } from "./statement.ts";
import { postgresClientTrouble, storageTroubleOf } from "./storage-errors.ts";
import { TransactionScope, type TransactionSession } from "./transaction-scope.ts";

/**
 * The SqlExecutor over the pool of pg-client.ts. A call outside a transaction borrows a pooled
 * connection for its one statement; a transaction holds one connection from BEGIN to COMMIT.
 * Statements run as named prepared statements, so each connection parses a statement once and
 * then only binds it. A connection that failed (the server restarted) is dropped, never handed
 * back, and the pool opens new ones on demand: after a restart the same executor works again.
 */

type AnyStatement = Statement<unknown, unknown>;

/** The executor over `pool`; close() ends the pool. */
export function pgExecutor(pool: pg.Pool): SqlExecutor {
  return new PgExecutor(pool);
}

class PgExecutor implements SqlExecutor {
  readonly dialect = "postgres" as const;
  readonly #scope = new TransactionScope<PgSession>();
  #closing: Promise<void> | null = null;

  constructor(private readonly pool: pg.Pool) {}

  async get<P extends StatementParams<P>, R>(statement: Statement<P, R>, ...[params]: ParamsArg<P>): Promise<R | undefined> {
    return (await this.#query<R>(statement, params)).rows[0];
  }

  async all<P extends StatementParams<P>, R>(statement: Statement<P, R>, ...[params]: ParamsArg<P>): Promise<R[]> {
    return (await this.#query<R>(statement, params)).rows;
  }

  async run<P extends StatementParams<P>, R>(statement: Statement<P, R>, ...[params]: ParamsArg<P>): Promise<RunResult> {
    return { changes: (await this.#query(statement, params)).rowCount ?? 0 };
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    const open = this.#scope.current();
    if (open) return this.#scope.nest(open, work);
    const session = await this.#checkout();
    try {
      return await this.#scope.run(session, "BEGIN", work);
    } finally {
      session.release();
    }
  }

  close(): Promise<void> {
    // pool.end() waits for borrowed connections to come back; a second call would throw.
    this.#closing ??= this.pool.end();
    return this.#closing;
  }

  async #query<R>(statement: AnyStatement, params: Readonly<Record<string, unknown>> | undefined): Promise<pg.QueryResult<R & pg.QueryResultRow>> {
    const { text, name } = statement.postgres;
    const config = { name, text, values: bindValues(statement.postgres, params) };
    const open = this.#scope.current();
    if (open) return open.session.query<R>(config);
    const session = await this.#checkout();
    try {
      return await session.query<R>(config);
    } finally {
      session.release();
    }
  }

  async #checkout(): Promise<PgSession> {
    try {
      return new PgSession(await this.pool.connect());
    } catch (error) {
      throw postgresClientTrouble(error);
    }
  }
}

/** One borrowed connection: it runs statements and control statements, and goes back to the pool whole or is dropped. */
class PgSession implements TransactionSession {
  #broken = false;
  // A borrowed connection that fails while no statement runs says so by an 'error' event; without
  // a listener that event would end the process (the pool listens only while a connection is idle).
  readonly #onError = (): void => void (this.#broken = true);

  constructor(private readonly client: pg.PoolClient) {
    client.on("error", this.#onError);
  }

  async query<R>(config: pg.QueryConfig): Promise<pg.QueryResult<R & pg.QueryResultRow>> {
    try {
      return await this.client.query<R & pg.QueryResultRow>(config);
    } catch (error) {
      const troubled = postgresClientTrouble(error);
      if (storageTroubleOf(troubled) === "unreachable") this.#broken = true;
      throw troubled;
    }
  }

  async exec(sql: string): Promise<void> {
    await this.query({ text: sql });
  }

  async rollback(): Promise<void> {
    try {
      await this.query({ text: "ROLLBACK" });
    } catch {
      // Not undone on this connection: it goes, and the server ends the transaction with it.
      this.#broken = true;
    }
  }

  /** Back to the pool, or closed when it failed (the pool then opens a new one when needed). */
  release(): void {
    this.client.off("error", this.#onError);
    this.client.release(this.#broken);
  }
}
