import { createHash } from "node:crypto";

/**
 * A statement defined once for both stores: SQL with named parameters (`@name`), compiled at
 * definition into each dialect's placeholders (SQLite `?`, PostgreSQL `$1…`), and carrying the
 * types of its parameters and rows. Where the dialects need different SQL (`INSERT OR IGNORE`
 * against `ON CONFLICT DO NOTHING`, `instr()` against `strpos()`), give both texts; they must
 * take the same parameters. Executors (executor.ts) prepare each statement once per connection.
 */

export type Dialect = "sqlite" | "postgres";

/**
 * What a parameter may hold on both stores: text, a number, NULL or bytes. Not booleans, dates or
 * bigints: SQLite binds none of them and PostgreSQL would, so a store that passed one would work
 * on one store only (the hub keeps times as ISO text and flags as 0/1).
 */
export type SqlValue = string | number | null | Uint8Array;

/** A statement's named parameters: an object whose every field is a SqlValue. */
export type StatementParams<P> = { [K in keyof P]: SqlValue };

/** For statements without parameters. */
export type NoParams = Record<never, never>;

/** One dialect's form of a statement. */
export interface CompiledSql {
  /** The SQL with this dialect's placeholders. */
  readonly text: string;
  /** The parameter bound to each placeholder, in order (SQLite repeats a name used twice; PostgreSQL's `$n` do not). */
  readonly order: readonly string[];
  /** A name derived from the text: PostgreSQL's prepared statement name, the same in every process. */
  readonly name: string;
}

declare const TYPES: unique symbol;

export interface Statement<P = NoParams, R = never> {
  /** The distinct parameter names, in order of first use. */
  readonly parameters: readonly string[];
  readonly sqlite: CompiledSql;
  readonly postgres: CompiledSql;
  /** Types only, never set: what the statement binds and what its rows hold. */
  readonly [TYPES]?: { params: P; row: R };
}

/** The texts of a statement whose SQL differs between the dialects. */
export interface DialectTexts {
  sqlite: string;
  postgres: string;
}

/**
 * Defines a statement: `defineStatement<{ number: string }, CardRow>("SELECT … WHERE number = @number")`.
 * `P` types the parameters, `R` each row (none for a write without RETURNING). Throws at once on
 * a positional placeholder or on dialect texts whose parameters differ, so a mistake fails at load.
 */
export function defineStatement<P extends StatementParams<P> = NoParams, R = never>(text: string | DialectTexts): Statement<P, R> {
  const texts = typeof text === "string" ? { sqlite: text, postgres: text } : text;
  const sqlite = compile(texts.sqlite, "sqlite");
  const postgres = compile(texts.postgres, "postgres");
  const parameters = [...new Set(sqlite.order)];
  if (!sameNames(parameters, postgres.order)) {
    throw new TypeError(`The dialects' texts take different parameters (sqlite: ${parameters.join(", ") || "none"}; postgres: ${postgres.order.join(", ") || "none"})`);
  }
  return { parameters, sqlite, postgres };
}

function sameNames(names: readonly string[], others: readonly string[]): boolean {
  return names.length === others.length && names.every((name) => others.includes(name));
}

/**
 * The values for a compiled statement's placeholders. A missing parameter (undefined) throws
 * rather than binding NULL, and so does a value neither store binds the same way.
 */
export function bindValues(compiled: CompiledSql, params: Readonly<Record<string, unknown>> | undefined): SqlValue[] {
  return compiled.order.map((name) => {
    const value = params?.[name];
    if (value === undefined) throw new TypeError(`Missing parameter @${name}`);
    if (value !== null && typeof value !== "string" && typeof value !== "number" && !(value instanceof Uint8Array)) {
      throw new TypeError(`Parameter @${name} is a ${typeof value}: bind text, a number, null or bytes`);
    }
    return value;
  });
}

const IDENTIFIER_START = /[A-Za-z_]/;
const IDENTIFIER_PART = /[A-Za-z0-9_]/;

/** Where a quoted part or comment that starts at `i` ends (the index after it), or `i` when none starts there. */
function skipQuoted(sql: string, i: number): number {
  const two = sql.slice(i, i + 2);
  if (two === "--") return endOf(sql, "\n", i + 2);
  if (two === "/*") return endOf(sql, "*/", i + 2);
  const quote = sql[i];
  // '' inside a literal closes and reopens it, which this reading handles as two literals.
  if (quote === "'" || quote === '"' || quote === "`") return endOf(sql, quote, i + 1);
  return i;
}

function endOf(sql: string, closing: string, from: number): number {
  const at = sql.indexOf(closing, from);
  return at === -1 ? sql.length : at + closing.length;
}

/** One dialect's text and placeholder order; `@name` inside literals, quoted names and comments stays as written. */
function compile(sql: string, dialect: Dialect): CompiledSql {
  const order: string[] = [];
  let text = "";
  for (let i = 0; i < sql.length; ) {
    const skipped = skipQuoted(sql, i);
    if (skipped > i) {
      text += sql.slice(i, skipped);
      i = skipped;
      continue;
    }
    if (sql[i] === "@" && IDENTIFIER_START.test(sql[i + 1] ?? "")) {
      let end = i + 2;
      while (end < sql.length && IDENTIFIER_PART.test(sql[end])) end += 1;
      text += placeholder(sql.slice(i + 1, end), order, dialect);
      i = end;
      continue;
    }
    refusePositional(sql, i, dialect);
    text += sql[i];
    i += 1;
  }
  return { text, order, name: `fpr_${createHash("sha256").update(text).digest("hex").slice(0, 32)}` };
}

function placeholder(name: string, order: string[], dialect: Dialect): string {
  if (dialect === "sqlite") {
    order.push(name);
    return "?";
  }
  let index = order.indexOf(name);
  if (index === -1) index = order.push(name) - 1;
  return `$${index + 1}`;
}

/** A `?` (SQLite) or `$1` (PostgreSQL) would be a placeholder nothing binds: name it instead. */
function refusePositional(sql: string, i: number, dialect: Dialect): void {
  const positional = dialect === "sqlite" ? sql[i] === "?" || (sql[i] === "$" && IDENTIFIER_PART.test(sql[i + 1] ?? "")) : sql[i] === "$" && /[0-9]/.test(sql[i + 1] ?? "");
  if (positional) throw new TypeError(`Positional placeholder at ${i} in "${sql.slice(0, 60)}…": use named parameters (@name)`);
}
