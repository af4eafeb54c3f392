/**
 * The executor contract (src/db/executor.ts), the same tests on SQLite and on PostgreSQL: named
 * parameters, RETURNING, transactions (commit, rollback, savepoints, the transaction carried by
 * the async context), serialized or row-locked concurrent writers, dialect-specific statements,
 * statements prepared once. Then PostgreSQL stopped under a running executor.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SqlExecutor } from "../../src/db/executor.ts";
import { openPostgresPool } from "../../src/db/pg-client.ts";
import { pgExecutor } from "../../src/db/pg-executor.ts";
import { defineStatement, type NoParams } from "../../src/db/statement.ts";
import { storageTroubleOf } from "../../src/db/storage-errors.ts";
import { restErrorOf } from "../../src/http/error-status.ts";
import { PrivatePostgres } from "../helpers/private-postgres.ts";
import { gate, pause, SUBJECTS, type Subject } from "./executor-subjects.ts";

interface Partner {
  id: string;
  name: string;
  createdAt: string;
}

const AT = "2025-01-01T00:00:00.000Z";
// Aliases in double quotes: PostgreSQL folds unquoted names to lower case, SQLite keeps them.
const INSERT_PARTNER = defineStatement<{ id: string; name: string; at: string }, Partner>(
  `INSERT INTO partners (id, name, industry, created_at) VALUES (@id, @name, 'RAIL', @at) RETURNING id, name, created_at AS "createdAt"`,
);
const RENAME_PARTNER = defineStatement<{ id: string; name: string }, Partner>(`UPDATE partners SET name = @name WHERE id = @id RETURNING id, name, created_at AS "createdAt"`);
const PARTNER_NAME = defineStatement<{ id: string }, { name: string }>("SELECT name FROM partners WHERE id = @id");
const PARTNER_IDS = defineStatement<NoParams, { id: string }>("SELECT id FROM partners ORDER BY id");
const DELETE_PARTNERS = defineStatement("DELETE FROM partners");
const ITEM = defineStatement<{ name: string; note: string | null }>("INSERT INTO scratch_items (name, note) VALUES (@name, @note)");
// @name twice, and an @ inside a literal that is text, not a parameter.
const ITEM_BY_NAME_OR_NOTE = defineStatement<{ name: string }, { name: string }>("SELECT name FROM scratch_items WHERE (name = @name OR note = @name) AND name <> 'x@example.com' ORDER BY name");
const COUNTER = defineStatement<{ id: number }, { n: number }>({
  sqlite: "SELECT n FROM scratch_counter WHERE id = @id", // the transaction holds the only connection
  postgres: "SELECT n FROM scratch_counter WHERE id = @id FOR UPDATE", // the row lock holds the others off
});
const SET_COUNTER = defineStatement<{ id: number; n: number }>("UPDATE scratch_counter SET n = @n WHERE id = @id");
const INSERT_ITEM_ONCE = defineStatement<{ name: string }>({
  sqlite: "INSERT OR IGNORE INTO scratch_items (name) VALUES (@name)",
  postgres: "INSERT INTO scratch_items (name) VALUES (@name) ON CONFLICT DO NOTHING",
});
const POSITION = defineStatement<{ text: string; part: string }, { at: number }>({
  sqlite: "SELECT instr(@text, @part) AS at",
  postgres: "SELECT strpos(CAST(@text AS text), CAST(@part AS text)) AS at",
});

const SERVER_PREPARED = defineStatement<{ name: string }, { n: number }>("SELECT count(*) AS n FROM pg_prepared_statements WHERE name = @name");

/** A store as the converted ones will be: statements and an executor, no transaction handle. */
class PartnerNames {
  constructor(private readonly executor: SqlExecutor) {}
  rename(id: string, name: string): Promise<Partner | undefined> {
    return this.executor.get(RENAME_PARTNER, { id, name });
  }
  async nameOf(id: string): Promise<string | undefined> {
    return (await this.executor.get(PARTNER_NAME, { id }))?.name;
  }
}

/** Checked by tsc, never run: a statement types what it binds and what its rows hold. */
export async function typedByStatement(db: SqlExecutor): Promise<void> {
  // @ts-expect-error a misspelt parameter
  await db.get(PARTNER_NAME, { idd: "p1" });
  // @ts-expect-error a parameter left out
  await db.get(PARTNER_NAME);
  // @ts-expect-error a boolean: the two stores would not bind it alike
  await db.run(ITEM, { name: "a", note: true });
  await db.all(PARTNER_IDS); // no parameters, none given
  const row = await db.get(PARTNER_NAME, { id: "p1" });
  // @ts-expect-error not a column of its rows
  void row?.nme;
}

describe.each(SUBJECTS)("executor contract on $dialect", ({ open }) => {
  let subject: Subject;
  let db: SqlExecutor;
  beforeAll(async () => {
    subject = await open();
    db = subject.executor;
  });
  afterAll(() => subject?.close());
  const partnerIds = async () => (await db.all(PARTNER_IDS)).map((row) => row.id);

  it("binds named parameters in get, all and run; a name used twice binds once; a literal's @ stays text", async () => {
    expect(await db.run(ITEM, { name: "a", note: null })).toEqual({ changes: 1 });
    await db.run(ITEM, { name: "b", note: "a" });
    await db.run(ITEM, { name: "x@example.com", note: "a" });
    expect(await db.all(ITEM_BY_NAME_OR_NOTE, { name: "a" })).toEqual([{ name: "a" }, { name: "b" }]);
    expect(await db.get(ITEM_BY_NAME_OR_NOTE, { name: "b" })).toEqual({ name: "b" });
    expect(await db.get(ITEM_BY_NAME_OR_NOTE, { name: "none" })).toBeUndefined();
    await expect(db.get(ITEM_BY_NAME_OR_NOTE, {} as { name: string })).rejects.toThrow("Missing parameter @name");
    await expect(db.get(ITEM_BY_NAME_OR_NOTE, { name: true } as never)).rejects.toThrow("bind text, a number, null or bytes");
  });

  it("returns RETURNING rows from inserts, updates and deletes; a constraint error is the driver's, not storage trouble", async () => {
    expect(await db.get(INSERT_PARTNER, { id: "p1", name: "Rail", at: AT })).toEqual({ id: "p1", name: "Rail", createdAt: AT });
    expect(await db.all(RENAME_PARTNER, { id: "p1", name: "Rail 2" })).toEqual([{ id: "p1", name: "Rail 2", createdAt: AT }]);
    const duplicate = await db.get(INSERT_PARTNER, { id: "p1", name: "again", at: AT }).catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(Error);
    expect(storageTroubleOf(duplicate)).toBeNull();
    // The connection is fine afterwards (PostgreSQL: the pooled connection was kept, not in an aborted state).
    expect(await partnerIds()).toEqual(["p1"]);
    expect(await db.run(DELETE_PARTNERS)).toEqual({ changes: 1 });
  });

  it("commits a transaction's writes together and returns its result", async () => {
    const result = await db.transaction(async () => {
      await db.run(INSERT_PARTNER, { id: "t1", name: "One", at: AT });
      await db.run(INSERT_PARTNER, { id: "t2", name: "Two", at: AT });
      return "done";
    });
    expect(result).toBe("done");
    expect(await partnerIds()).toEqual(["t1", "t2"]);
    await db.run(DELETE_PARTNERS);
  });

  it("rolls back on a throw, leaving nothing, and rethrows the same error", async () => {
    const boom = new Error("boom");
    await expect(db.transaction(async () => {
      await db.run(INSERT_PARTNER, { id: "r1", name: "Gone", at: AT });
      expect(await partnerIds()).toEqual(["r1"]);
      throw boom;
    })).rejects.toBe(boom);
    expect(await partnerIds()).toEqual([]);
  });

  it("nests transactions as savepoints: an inner throw undoes only the inner part", async () => {
    await db.transaction(async () => {
      await db.run(INSERT_PARTNER, { id: "n1", name: "Outer", at: AT });
      await expect(db.transaction(async () => {
        await db.run(INSERT_PARTNER, { id: "n2", name: "Inner", at: AT });
        throw new Error("inner");
      })).rejects.toThrow("inner");
      await db.transaction(async () => {
        await db.run(INSERT_PARTNER, { id: "n3", name: "Kept", at: AT });
        await db.transaction(() => db.run(INSERT_PARTNER, { id: "n4", name: "Deeper", at: AT }));
      });
    });
    expect(await partnerIds()).toEqual(["n1", "n3", "n4"]);
    await db.run(DELETE_PARTNERS);
  });

  it("a store called inside transaction() joins it; one called outside neither sees nor joins it", async () => {
    await db.run(INSERT_PARTNER, { id: "s1", name: "Original", at: AT });
    const store = new PartnerNames(db);
    const go = gate();
    // Registered here, outside any transaction: the read runs in this context when the gate opens.
    const outside = go.opened.then(() => store.nameOf("s1"));
    let afterwards: Promise<string | undefined> | undefined;
    await expect(db.transaction(async () => {
      await store.rename("s1", "Inside");
      expect(await store.nameOf("s1")).toBe("Inside");
      go.open();
      await pause(20);
      // Left running past the transaction's end: it then runs outside it, after the rollback.
      afterwards = pause(30).then(() => store.nameOf("s1"));
      throw new Error("undo");
    })).rejects.toThrow("undo");
    expect(await outside).toBe("Original");
    expect(await afterwards).toBe("Original");
    await db.run(DELETE_PARTNERS);
  });

  it("twenty concurrent read-then-write transactions lose no increment", async () => {
    await Promise.all(Array.from({ length: 20 }, () => db.transaction(async () => {
      const { n } = (await db.get(COUNTER, { id: 1 }))!;
      await pause(1); // the others run meanwhile, where they can
      await db.run(SET_COUNTER, { id: 1, n: n + 1 });
    })));
    expect(await db.get(COUNTER, { id: 1 })).toEqual({ n: 20 });
  });

  it("runs each dialect's text of a dialect-specific statement", async () => {
    expect(await db.run(INSERT_ITEM_ONCE, { name: "once" })).toEqual({ changes: 1 });
    expect(await db.run(INSERT_ITEM_ONCE, { name: "once" })).toEqual({ changes: 0 });
    expect(await db.get(POSITION, { text: "FPR-2023", part: "2023" })).toEqual({ at: 5 });
    expect(() => defineStatement({ sqlite: "SELECT @a", postgres: "SELECT @b" })).toThrow("different parameters");
    expect(() => defineStatement("SELECT * FROM partners WHERE id = ?")).toThrow("named parameters");
  });

  it("prepares a statement once and reuses it", async () => {
    const statement = defineStatement<{ id: number }, { n: number }>("SELECT n FROM scratch_counter WHERE id = @id AND n >= 0");
    const prepares = subject.countPrepares(statement);
    try {
      // In one transaction: one connection, so one prepare on PostgreSQL too (each connection prepares once).
      await db.transaction(async () => {
        for (let i = 0; i < 5; i++) expect((await db.get(statement, { id: 1 }))?.n).toBeTypeOf("number");
        // The server's own account of this session's prepared statements.
        if (subject.dialect === "postgres") expect(await db.get(SERVER_PREPARED, { name: statement.postgres.name })).toEqual({ n: 1 });
      });
      expect(prepares.count()).toBe(1);
    } finally {
      prepares.restore();
    }
  });
});

const SLEEP = defineStatement<NoParams, unknown>("SELECT pg_sleep(20)");
const ITEM_NAMES = defineStatement<NoParams, { name: string }>("SELECT name FROM scratch_items ORDER BY name");

/** What a caller of the hub is told: SERVICE_UNAVAILABLE, as for a full disk. */
function expectUnavailable(error: unknown): void {
  expect(storageTroubleOf(error)).toBe("unreachable");
  expect(restErrorOf(error)).toMatchObject({ code: "SERVICE_UNAVAILABLE", extensions: { retryAfterMs: 2_000 } });
}

describe("PostgreSQL stopped under a running executor", () => {
  let server: PrivatePostgres;
  let db: SqlExecutor;
  const idleErrors: Error[] = [];
  beforeAll(async () => {
    server = await PrivatePostgres.start();
    const pool = openPostgresPool({ url: server.url, maxConnections: 3, statementTimeoutMs: 30_000, connectTimeoutMs: 2_000, onIdleError: (error) => idleErrors.push(error) });
    await pool.query("CREATE TABLE scratch_items (name text PRIMARY KEY, note text)");
    db = pgExecutor(pool);
  });
  afterAll(async () => {
    await db?.close();
    await server?.destroy();
  });

  it.each(["fast", "immediate"] as const)("stopped (%s) mid-statement and mid-transaction: SERVICE_UNAVAILABLE; started again: the same executor works", async (mode) => {
    await db.run(ITEM, { name: `${mode} before`, note: null });
    const sleeping = db.get(SLEEP).catch((error: unknown) => error);
    const interrupted = db.transaction(async () => {
      await db.run(ITEM, { name: `${mode} interrupted`, note: null });
      await db.get(SLEEP);
    }).catch((error: unknown) => error);
    await pause(300); // both are on the server now
    await server.stop(mode);
    expectUnavailable(await sleeping);
    expectUnavailable(await interrupted);
    // While it is down: refused, promptly, without the executor stuck.
    expectUnavailable(await db.get(ITEM_NAMES).catch((error: unknown) => error));
    expectUnavailable(await db.transaction(() => db.all(ITEM_NAMES)).catch((error: unknown) => error));
    await server.start();
    await db.transaction(() => db.run(ITEM, { name: `${mode} after`, note: null }));
    const names = (await db.all(ITEM_NAMES)).map((row) => row.name).filter((name) => name.startsWith(mode));
    expect(names).toEqual([`${mode} after`, `${mode} before`]);
  });
});
