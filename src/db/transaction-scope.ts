import { AsyncLocalStorage } from "node:async_hooks";
import { ConnectionLock } from "./connection-lock.ts";

/** The connection a transaction runs on, as the scope needs it: its control statements. */
export interface TransactionSession {
  /** BEGIN, COMMIT, SAVEPOINT …: one control statement; throws as the driver does. */
  exec(sql: string): unknown;
  /** Undoes the transaction after a failure; never throws (a connection that cannot is dropped). */
  rollback(): unknown;
}

/** A transaction (or a savepoint within one) while its work runs. */
export interface OpenTransaction<S> {
  readonly session: S;
  /** False once its work has ended: a promise it left running then runs outside it. */
  open: boolean;
  /** Savepoints nest by depth, so names repeat only after the one before was released. */
  readonly depth: number;
  /** Sibling savepoints started concurrently run one after another. */
  readonly children: ConnectionLock;
}

/**
 * Carries the open transaction with the async context, so any call made inside `work`, however
 * deep, finds it (`current()`) without a handle being passed; nests savepoints. One scope per
 * executor: two executors' transactions never mix. Executors choose the connection and BEGIN.
 */
export class TransactionScope<S extends TransactionSession> {
  readonly #context = new AsyncLocalStorage<OpenTransaction<S>>();

  /** The transaction the caller runs inside, if it is still open. */
  current(): OpenTransaction<S> | undefined {
    const transaction = this.#context.getStore();
    return transaction?.open ? transaction : undefined;
  }

  /** Runs `work` as a new transaction on `session`, begun with `begin`; committed, or rolled back on a throw. */
  async run<T>(session: S, begin: string, work: () => Promise<T>): Promise<T> {
    await session.exec(begin);
    const transaction: OpenTransaction<S> = { session, open: true, depth: 0, children: new ConnectionLock() };
    try {
      const result = await this.#context.run(transaction, work);
      transaction.open = false;
      await session.exec("COMMIT");
      return result;
    } catch (error) {
      transaction.open = false;
      await session.rollback();
      throw error;
    }
  }

  /** Runs `work` in a savepoint of `parent`: its throw undoes only what it did, and reaches the caller. */
  async nest<T>(parent: OpenTransaction<S>, work: () => Promise<T>): Promise<T> {
    await parent.children.acquire();
    const savepoint = `fpr_savepoint_${parent.depth + 1}`;
    const child: OpenTransaction<S> = { session: parent.session, open: true, depth: parent.depth + 1, children: new ConnectionLock() };
    try {
      await parent.session.exec(`SAVEPOINT ${savepoint}`);
      const result = await this.#context.run(child, work);
      child.open = false;
      await parent.session.exec(`RELEASE SAVEPOINT ${savepoint}`);
      return result;
    } catch (error) {
      child.open = false;
      await undoSavepoint(parent.session, savepoint);
      throw error;
    } finally {
      parent.children.release();
    }
  }
}

/**
 * Back to the savepoint, then gone. When that fails the whole transaction is lost (the connection
 * dropped, or SQLite rolled it all back after a full disk): the caller's error still stands, and
 * the outer transaction fails at its next statement or its COMMIT.
 */
async function undoSavepoint(session: TransactionSession, savepoint: string): Promise<void> {
  try {
    await session.exec(`ROLLBACK TO SAVEPOINT ${savepoint}`);
    await session.exec(`RELEASE SAVEPOINT ${savepoint}`);
  } catch {
    // The caller's error says what went wrong first.
  }
}
