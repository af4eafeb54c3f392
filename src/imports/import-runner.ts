import type { Readable } from "node:stream";
import { parse as parseCsvLine } from "csv-parse/sync";
import { inTransaction } from "../db/client.ts";
import type { RegisterContext } from "../cards/register-context.ts";
import { HubError, isHubError } from "../errors.ts";
import { privateWriteStream } from "../private-files.ts";
import { RECORD_FIELDS, RecordError, toImportRecord, type ImportRecord } from "./import-record.ts";
import { rejectLine, rejectOf, type Reject } from "./import-rejects.ts";
import { MAX_LINE_BYTES, readLines, type Line } from "./line-reader.ts";
import { changesSoFar, deferRegisterIndexes, isRegisterEmpty, restoreRegisterIndexes } from "./import.store.ts";
import { applyRecord } from "./record-apply.ts";

export type ImportFormat = "ndjson" | "csv";

export interface ImportProgress {
  read: number;
  created: number;
  unchanged: number;
  rejected: number;
  bytes: number;
}

export interface ImportSummary extends Omit<ImportProgress, "bytes"> {
  seconds: number;
}

export interface ImportOptions {
  format: ImportFormat;
  /** First load of an empty register: no events (partners are not sent the whole register). */
  noEvents?: boolean;
  /** Where rejected lines are written (line, code, fixed message; owner-only); null to skip. */
  rejectsPath?: string | null;
  onProgress?: (progress: ImportProgress) => void;
  batchSize?: number;
}

/** Turns one line into a record, or throws a HubError saying what is wrong with it. */
function recordOf(line: Line, format: ImportFormat, header: string[] | null): ImportRecord {
  if (line.tooLong) throw new RecordError(`line is longer than ${MAX_LINE_BYTES} bytes`);
  if (line.text === null) throw new RecordError("line is not valid UTF-8 (convert the file to UTF-8)");
  if (format === "ndjson") {
    let raw: unknown;
    try {
      raw = JSON.parse(line.text);
    } catch {
      throw new RecordError("line is not a complete JSON object (truncated?)");
    }
    return toImportRecord(raw);
  }
  let cells: string[];
  try {
    [cells] = parseCsvLine(line.text, { relax_column_count: true }) as string[][];
  } catch {
    throw new RecordError("line is not valid CSV");
  }
  if (cells.length !== header!.length) throw new RecordError(`expected ${header!.length} columns, found ${cells.length}`);
  return toImportRecord(Object.fromEntries(header!.map((name, i) => [name, cells[i]])));
}

/** The CSV header; its refusal quotes nothing from the file (it ends the whole import). */
function readHeader(line: Line): string[] {
  let header: string[];
  try {
    header = line.text === null ? [] : ((parseCsvLine(line.text) as string[][])[0] ?? []).map((h) => h.trim());
  } catch {
    header = [];
  }
  if (header.length === 0 || header.some((h) => !(RECORD_FIELDS as readonly string[]).includes(h))) {
    throw new RecordError(`the CSV header must name only fields from: ${RECORD_FIELDS.join(", ")}`);
  }
  return header;
}

/** Rejected rows written to the rejects file, at most. */
export const MAX_REJECTS_LISTED = 10_000;

/**
 * Streams an NDJSON or CSV file into the register through the same service code as the GraphQL
 * mutations. Records are applied in batches of one transaction each (see applyBatch): a bad record
 * is rejected whole and never stops the import. Memory stays flat.
 */
export async function importStream(ctx: RegisterContext, input: Readable, options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const progress: ImportProgress = { read: 0, created: 0, unchanged: 0, rejected: 0, bytes: 0 };
  const rejects = options.rejectsPath ? privateWriteStream(options.rejectsPath) : null;
  const batchSize = options.batchSize ?? 1000;
  if (options.noEvents) {
    requireEmptyRegister(ctx);
    // A first load builds the register's secondary indexes once, at the end (see deferIndexes).
    deferRegisterIndexes(ctx.db);
  }
  ctx.eventsEnabled = !options.noEvents;
  let header: string[] | null = null;
  let batch: BatchItem[] = [];
  // The rejects file lists the first MAX_REJECTS_LISTED rejects: a file of junk lines must not
  // cost fifty times its size on disk. The summary counts all of them.
  let listed = 0;
  const flush = () => {
    applyBatch(ctx, batch, progress, (reject) => {
      if (listed < MAX_REJECTS_LISTED) rejects?.write(rejectLine(reject));
      listed += 1;
    });
    batch = [];
    options.onProgress?.({ ...progress });
  };
  try {
    for await (const line of readLines(input, (n) => (progress.bytes += n))) {
      if (options.format === "csv" && header === null) {
        header = readHeader(line);
        continue;
      }
      progress.read += 1;
      try {
        batch.push({ line: line.number, record: recordOf(line, options.format, header), error: null });
      } catch (error) {
        if (!isHubError(error)) throw error;
        batch.push({ line: line.number, record: null, error });
      }
      if (batch.length >= batchSize) flush();
    }
    flush();
  } finally {
    ctx.eventsEnabled = true;
    if (options.noEvents) restoreRegisterIndexes(ctx.db);
    await new Promise<void>((resolve) => (rejects ? rejects.end(resolve) : resolve()));
  }
  const { bytes: _bytes, ...counts } = progress;
  return { ...counts, seconds: Math.round((performance.now() - started) / 10) / 100 };
}

type BatchItem = { line: number; record: ImportRecord | null; error: HubError | null };
type Outcome = "created" | "unchanged" | Reject;

/** A record failed after it had written: the batch must be applied again, a savepoint per record. */
class HalfApplied extends Error {}

/**
 * One batch in one transaction. Records are applied straight into it; a record that fails before
 * writing (almost every bad row: validation comes first) is just rejected. Should one fail after
 * writing, the whole batch is rolled back and applied again with a savepoint per record, so a bad
 * row never half-applies. Counts and rejects are reported once the batch has committed.
 */
function applyBatch(ctx: RegisterContext, batch: BatchItem[], progress: ImportProgress, reject: (reject: Reject) => void): void {
  let outcomes: Outcome[];
  try {
    outcomes = inTransaction(ctx.db, () => applyItems(ctx, batch, false));
  } catch (error) {
    if (!(error instanceof HalfApplied)) throw error;
    outcomes = inTransaction(ctx.db, () => applyItems(ctx, batch, true));
  }
  for (const outcome of outcomes) {
    if (outcome === "created") progress.created += 1;
    else if (outcome === "unchanged") progress.unchanged += 1;
    else {
      progress.rejected += 1;
      reject(outcome);
    }
  }
}

function applyItems(ctx: RegisterContext, batch: BatchItem[], savepoints: boolean): Outcome[] {
  const outcomes: Outcome[] = [];
  ctx.inBatch = !savepoints;
  try {
    for (const item of batch) {
      if (item.error || !item.record) {
        outcomes.push(rejectOf(item.line, item.error!));
        continue;
      }
      const before = savepoints ? 0 : changesSoFar(ctx.db);
      try {
        outcomes.push(applyRecord(ctx, item.record) ? "created" : "unchanged");
      } catch (error) {
        if (!isHubError(error)) throw error;
        if (!savepoints && changesSoFar(ctx.db) !== before) throw new HalfApplied();
        outcomes.push(rejectOf(item.line, error));
      }
    }
  } finally {
    ctx.inBatch = false;
  }
  return outcomes;
}

function requireEmptyRegister(ctx: RegisterContext): void {
  if (!isRegisterEmpty(ctx.db)) {
    throw new HubError("CONFLICT", "--no-events is only for the first load of an empty register");
  }
}
