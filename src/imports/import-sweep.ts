import fs from "node:fs";
import path from "node:path";
import type { HubQueues } from "../../jobs/queues.ts";
import { importsDir } from "./import-files.ts";

const FILE_NAME = /^(imp_[A-Za-z0-9_-]{12})\.(ndjson|csv|rejects\.ndjson)$/;
/** An upload with no job yet is still being received while younger than this. */
export const UPLOAD_GRACE_MS = 60 * 60 * 1000;
const FINISHED = new Set(["completed", "failed", "unknown"]);

/**
 * Removes what no import needs any more: an upload whose job has finished or was removed (e.g. from
 * the board), and a rejects file whose job is gone. Runs after every import and on the worker's
 * maintenance schedule. Returns how many files it removed.
 */
export async function sweepImportFiles(dataDir: string, queue: HubQueues["imports"], now = Date.now()): Promise<number> {
  const dir = importsDir(dataDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const match = FILE_NAME.exec(name);
    if (!match) continue;
    const file = path.join(dir, name);
    const job = await queue.getJob(match[1]);
    const state = job ? await job.getState() : null;
    const isRejects = match[2] === "rejects.ndjson";
    const unused = isRejects ? !job : state === null || FINISHED.has(state);
    if (!unused) continue;
    const stat = fs.lstatSync(file, { throwIfNoEntry: false });
    if (!stat || (!isRejects && !job && now - stat.mtimeMs < UPLOAD_GRACE_MS)) continue;
    fs.rmSync(file, { force: true });
    removed += 1;
  }
  return removed;
}
