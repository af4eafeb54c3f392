import fs from "node:fs";
import path from "node:path";
import type { HubQueues } from "../../jobs/queues.ts";
import { IMPORT_ID, importsDir } from "./import-files.ts";

const FILE_NAME = new RegExp(`^(${IMPORT_ID.source.slice(1, -1)})\\.(ndjson|csv|rejects\\.ndjson)(\\.part)?$`);
/** An upload still being received (`.part`) that has not grown for this long was abandoned. */
const STALLED_UPLOAD_MS = 60 * 60 * 1000;
/** A received upload is renamed, then its job is added: give that a moment before calling it orphaned. */
export const QUEUEING_GRACE_MS = 5000;
const FINISHED = new Set(["completed", "failed", "unknown"]);

function age(stat: fs.Stats, now: number): { sinceWrite: number; sinceChange: number } {
  return { sinceWrite: now - stat.mtimeMs, sinceChange: now - stat.ctimeMs };
}

/** Whether a file of an import is still needed, given its job (undefined when there is none). */
async function unused(kind: string, partial: boolean, job: Awaited<ReturnType<HubQueues["imports"]["getJob"]>>, stat: fs.Stats, now: number): Promise<boolean> {
  const { sinceWrite, sinceChange } = age(stat, now);
  if (partial) return sinceWrite > STALLED_UPLOAD_MS;
  if (kind === "rejects.ndjson") return !job;
  if (!job) return sinceChange > QUEUEING_GRACE_MS;
  return FINISHED.has(await job.getState());
}

/**
 * Removes what no import needs any more: an upload whose job has finished or was removed (e.g. from
 * the board), an upload abandoned while being received, and a rejects file whose job is gone. Runs
 * after every import and on the worker's maintenance schedule. Returns how many files it removed.
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
    const file = path.join(dir, name);
    const stat = match ? fs.lstatSync(file, { throwIfNoEntry: false }) : undefined;
    if (!match || !stat) continue;
    if (!(await unused(match[2], match[3] !== undefined, await queue.getJob(match[1]), stat, now))) continue;
    fs.rmSync(file, { force: true });
    removed += 1;
  }
  return removed;
}
