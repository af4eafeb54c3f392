import fs from "node:fs";
import type { Job } from "bullmq";
import type { RegisterContext } from "../src/cards/register-context.ts";
import { importStream, type ImportSummary } from "../src/imports/import-runner.ts";
import { importFiles } from "../src/imports/import-uploads.ts";
import type { ImportJob } from "./queues.ts";

/** Runs an uploaded import, reporting progress on the job so the issuer can follow it. */
export function createImportProcessor(register: RegisterContext, dataDir: string) {
  return async (job: Job<ImportJob>): Promise<ImportSummary> => {
    const files = importFiles(dataDir, job.data.importId, job.data.format);
    const summary = await importStream(register, fs.createReadStream(files.data, { highWaterMark: 256 * 1024 }), {
      format: job.data.format,
      rejectsPath: files.rejects,
      onProgress: (progress) => {
        job.updateProgress({ ...progress }).catch(() => undefined);
      },
    });
    fs.rmSync(files.data, { force: true });
    if (summary.rejected === 0) fs.rmSync(files.rejects, { force: true });
    return summary;
  };
}
