/**
 * Why an import job failed, as its failedReason (Redis, Bull Board, GET /imports/<id>) says it.
 * A closed set of fixed sentences: nothing from the file or the job's data ever reaches them.
 * (Malformed job data fails earlier, with jobs/job-data.ts's InvalidJobData, as on every queue.)
 */
export const IMPORT_FAILURES = {
  notIssuer: "the import job was not queued by an ISSUER key that is still valid; nothing was imported",
  noFile: "the uploaded file is no longer there; upload it again",
  badHeader: "the CSV header must name only the record's fields (see the README); nothing was imported",
  crashed: "the import stopped on an internal error; records of finished batches are kept (progress says how many were read); upload the file again to finish, a re-import is idempotent",
} as const;

const KNOWN: ReadonlySet<string> = new Set(Object.values(IMPORT_FAILURES));

/** A failedReason fit to show: one of the fixed sentences, else a generic one (BullMQ's own, or a forged job's). */
export function shownFailure(failedReason: string | undefined): string {
  return failedReason && KNOWN.has(failedReason) ? failedReason : "the import failed; upload the file again";
}
