import { UnrecoverableError, type Job } from "bullmq";
import { IMPORT_ID } from "../src/imports/import-files.ts";
import { KEY_ID } from "../src/partners/api-keys.ts";
import type { ConformanceJob, DeliverJob, FanoutJob, ImportJob } from "./queues.ts";

/**
 * The one home of what a job may carry. Every processor checks its job's data here before it
 * reads, writes or sends anything: a job is data in Redis, and anyone who can write there (or a
 * bug) can put anything in it. Bad data fails the job at once (UnrecoverableError, no retry), with
 * a message that names the field but never repeats its value.
 */

/** Ids as the hub makes them: a prefix and base64url characters (demo subscriptions are longer). */
const SUBSCRIPTION_ID = /^sub_[A-Za-z0-9_-]{1,40}$/;
const TEST_EVENT_ID = /^test_[A-Za-z0-9_-]{12}$/;
const RUN_ID = /^run_[A-Za-z0-9_-]{12}$/;
/** Date#toISOString's own form, which is how the hub writes every time it puts in a job. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A retry job counts the fan-out's first attempt; nothing legitimate counts more than a few. */
export const MAX_PRIOR_ATTEMPTS = 100;

export const MAINTENANCE_JOBS = ["cards.expire-sweep", "audit.purge", "imports.sweep"] as const;
export type MaintenanceJobName = (typeof MAINTENANCE_JOBS)[number];

export class InvalidJobData extends UnrecoverableError {
  constructor(kind: string, problem: string) {
    super(`invalid ${kind} job: ${problem}`);
    // BullMQ knows an unrecoverable error by class or by this name (a subclass would get its own).
    this.name = "UnrecoverableError";
    // BullMQ keeps the stack in Redis (and Bull Board shows it): it says nothing the message does not.
    this.stack = "";
  }
}

type Fields = Record<string, unknown>;

/** A plain object with no field but `allowed` (an unknown field is refused, not ignored). */
function fields(kind: string, data: unknown, allowed: readonly string[]): Fields {
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new InvalidJobData(kind, "data is not an object");
  if (Object.keys(data).some((key) => !allowed.includes(key))) throw new InvalidJobData(kind, "unexpected field");
  return data as Fields;
}

function matches(value: unknown, pattern: RegExp): value is string {
  return typeof value === "string" && pattern.test(value);
}

function isSequence(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

function isIsoTime(value: unknown): value is string {
  return matches(value, ISO_TIME) && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;
}

/** A ledger hand-off number: deliveries start at 1 (0 is the fan-out job's). */
function isHandoff(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1;
}

function isPriorAttempts(value: unknown): value is number | undefined {
  return value === undefined || (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= MAX_PRIOR_ATTEMPTS);
}

/** A delivery: of a stored event (`sequence`), or of a requested test event (`sequence` null). */
export function deliverJobData(data: unknown): DeliverJob {
  const job = fields("deliver", data, ["subscriptionId", "sequence", "testEventId", "testTime", "priorAttempts", "handoff"]);
  if (!matches(job.subscriptionId, SUBSCRIPTION_ID)) throw new InvalidJobData("deliver", "subscriptionId");
  if (!isPriorAttempts(job.priorAttempts)) throw new InvalidJobData("deliver", "priorAttempts");
  const priorAttempts = job.priorAttempts === undefined ? {} : { priorAttempts: job.priorAttempts };
  if (job.sequence === null) {
    if (job.handoff !== undefined) throw new InvalidJobData("deliver", "handoff on a test event");
    if (!matches(job.testEventId, TEST_EVENT_ID)) throw new InvalidJobData("deliver", "testEventId");
    if (!isIsoTime(job.testTime)) throw new InvalidJobData("deliver", "testTime");
    return { subscriptionId: job.subscriptionId, sequence: null, testEventId: job.testEventId, testTime: job.testTime, ...priorAttempts };
  }
  if (!isSequence(job.sequence)) throw new InvalidJobData("deliver", "sequence");
  if (job.testEventId !== undefined || job.testTime !== undefined) throw new InvalidJobData("deliver", "test fields on an event delivery");
  if (job.handoff !== undefined && !isHandoff(job.handoff)) throw new InvalidJobData("deliver", "handoff");
  return { subscriptionId: job.subscriptionId, sequence: job.sequence, ...priorAttempts, ...(job.handoff === undefined ? {} : { handoff: job.handoff }) };
}

export function fanoutJobData(data: unknown): FanoutJob {
  const job = fields("fanout", data, ["sequence"]);
  if (!isSequence(job.sequence)) throw new InvalidJobData("fanout", "sequence");
  return { sequence: job.sequence };
}

export function conformanceJobData(data: unknown): ConformanceJob {
  const job = fields("conformance", data, ["runId"]);
  if (!matches(job.runId, RUN_ID)) throw new InvalidJobData("conformance", "runId");
  return { runId: job.runId };
}

/** An uploaded import: its id names a file under DATA_DIR/imports, so it is never a path. */
export function importJobData(data: unknown): ImportJob {
  const job = fields("import", data, ["importId", "format", "issuerKeyId"]);
  if (!matches(job.importId, IMPORT_ID)) throw new InvalidJobData("import", "importId");
  if (job.format !== "ndjson" && job.format !== "csv") throw new InvalidJobData("import", "format");
  if (!matches(job.issuerKeyId, KEY_ID)) throw new InvalidJobData("import", "issuerKeyId");
  return { importId: job.importId, format: job.format, issuerKeyId: job.issuerKeyId };
}

/** Upkeep jobs come from the worker's schedulers: a known name and no data. */
export function maintenanceJob(name: unknown, data: unknown): MaintenanceJobName {
  if (!MAINTENANCE_JOBS.includes(name as MaintenanceJobName)) throw new InvalidJobData("maintenance", "name");
  if (data !== undefined && data !== null) fields("maintenance", data, []);
  return name as MaintenanceJobName;
}

/** The attempts a delivery job says were made before it, for the backoff; 0 if the data is bad. */
export function priorAttemptsOf(data: unknown): number {
  const value = (data as { priorAttempts?: unknown } | null | undefined)?.priorAttempts;
  return typeof value === "number" && isPriorAttempts(value) ? value : 0;
}

/**
 * A job whose options the hub never sets was forged: a repeatable job, more attempts than the
 * hub's schedule allows, or a backoff of its own (each would turn one job into a flood of POSTs).
 */
export function requireHubOptions(kind: string, job: Pick<Job, "opts" | "repeatJobKey">, maxAttempts: number, backoffType: string): void {
  const { opts } = job;
  if (opts.repeat || job.repeatJobKey) throw new InvalidJobData(kind, "a repeatable job");
  if ((opts.attempts ?? 1) > maxAttempts) throw new InvalidJobData(kind, "more attempts than the schedule allows");
  const backoff = typeof opts.backoff === "object" ? opts.backoff.type : opts.backoff;
  if (backoff !== undefined && backoff !== backoffType) throw new InvalidJobData(kind, "a backoff of its own");
}
