import fs from "node:fs";
import { UnrecoverableError, type Job } from "bullmq";
import type { RegisterContext } from "../src/cards/register-context.ts";
import type { ApiKeyService } from "../src/partners/api-keys.ts";
import { importFiles } from "../src/imports/import-files.ts";
import { IMPORT_FAILURES } from "../src/imports/import-failures.ts";
import { RecordError } from "../src/imports/import-record.ts";
import { importStream, type ImportSummary } from "../src/imports/import-runner.ts";
import { importJobData, InvalidJobData } from "./job-data.ts";
import type { ImportJob } from "./queues.ts";


/** A failure BullMQ never retries, with a fixed reason and no stack (both are kept in Redis). */
function failure(reason: string): UnrecoverableError {
  const error = new UnrecoverableError(reason);
  error.stack = "";
  return error;
}

/**
 * The job's data, checked before anything is read: jobs reach Redis from POST /imports, but also
 * from anyone who can write to the queue, so the processor trusts none of it. The import id must
 * be the job's id (one job per upload) and name a file inside DATA_DIR/imports.
 */
function checkedData(job: Job<ImportJob>): ImportJob {
  const data = importJobData(job.data);
  if (data.importId !== job.id) throw new InvalidJobData("import", "importId is not the job id");
  return data;
}

/** Only the register's writer may import: the key that uploaded must still be an unrevoked ISSUER key. */
function checkIssuer(apiKeys: Pick<ApiKeyService, "get">, keyId: string): void {
  const key = apiKeys.get(keyId);
  if (!key || key.role !== "ISSUER" || key.revokedAt) throw failure(IMPORT_FAILURES.notIssuer);
}

function openUpload(file: string): fs.ReadStream {
  const stat = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!stat?.isFile()) throw failure(IMPORT_FAILURES.noFile);
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  return fs.createReadStream(file, { fd, highWaterMark: 256 * 1024 });
}

/**
 * Runs an uploaded import, reporting progress (counts only) on the job so the issuer can follow it.
 * The upload is deleted in every outcome once the job's data is known good; failures carry one of
 * the fixed reasons of import-failures.ts, never a parser's message or a stack.
 */
export function createImportProcessor(register: RegisterContext, dataDir: string, apiKeys: Pick<ApiKeyService, "get">, afterEach?: () => Promise<unknown>) {
  return async (job: Job<ImportJob>): Promise<ImportSummary> => {
    const data = checkedData(job);
    const files = importFiles(dataDir, data.importId, data.format);
    try {
      checkIssuer(apiKeys, data.issuerKeyId);
      const summary = await importStream(register, openUpload(files.data), {
        format: data.format,
        rejectsPath: files.rejects,
        onProgress: (progress) => {
          job.updateProgress({ ...progress }).catch(() => undefined);
        },
      });
      if (summary.rejected === 0) fs.rmSync(files.rejects, { force: true });
      return summary;
    } catch (error) {
      if (error instanceof UnrecoverableError) throw error;
      throw failure(error instanceof RecordError ? IMPORT_FAILURES.badHeader : IMPORT_FAILURES.crashed);
    } finally {
      fs.rmSync(files.data, { force: true });
      await afterEach?.().catch(() => undefined);
    }
  };
}
