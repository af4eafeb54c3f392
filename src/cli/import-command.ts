import fs from "node:fs";
import { SingleBar } from "cli-progress";
import { HubError } from "../errors.ts";
import type { HubServices } from "../app/services.ts";
import { importStream, type ImportFormat, type ImportProgress, type ImportSummary } from "../imports/import-runner.ts";

export interface ImportCommandOptions {
  format?: string;
  events: boolean;
  rejects?: string;
}

/** Exit code when the import finished but rejected rows (see the rejects file). */
const EXIT_ROWS_REJECTED = 3;

function formatOf(file: string, option: string | undefined): ImportFormat {
  const format = option ?? (file.toLowerCase().endsWith(".csv") ? "csv" : "ndjson");
  if (format !== "csv" && format !== "ndjson") throw new HubError("BAD_USER_INPUT", "--format must be ndjson or csv");
  return format;
}

/** A progress bar on a terminal; plain progress lines (every 2 s) when not. */
function progressReporter(totalBytes: number): { update(p: ImportProgress): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: "import [{bar}] {percentage}% | {read} read, {created} created, {unchanged} unchanged, {rejected} rejected | eta {eta}s", stream: process.stderr, hideCursor: true });
    bar.start(totalBytes, 0, { read: 0, created: 0, unchanged: 0, rejected: 0 });
    return { update: (p) => bar.update(p.bytes, p), stop: () => bar.stop() };
  }
  let last = 0;
  return {
    update(p) {
      if (Date.now() - last < 2000) return;
      last = Date.now();
      const percent = totalBytes > 0 ? ((100 * p.bytes) / totalBytes).toFixed(1) : "?";
      process.stderr.write(`import: ${p.read} read, ${p.created} created, ${p.unchanged} unchanged, ${p.rejected} rejected (${percent}%)\n`);
    },
    stop() {},
  };
}

/** `fpr-hub import FILE`: streams the file in; prints a summary; exit 3 when rows were rejected. */
export async function runImport(services: HubServices, file: string, options: ImportCommandOptions): Promise<number> {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new HubError("NOT_FOUND", `no file ${file}`);
  const format = formatOf(file, options.format);
  const rejectsPath = options.rejects ?? `${file}.rejects.ndjson`;
  const reporter = progressReporter(fs.statSync(file).size);
  let summary: ImportSummary;
  try {
    summary = await importStream(services.register, fs.createReadStream(file, { highWaterMark: 256 * 1024 }), {
      format,
      noEvents: !options.events,
      rejectsPath,
      onProgress: reporter.update,
    });
  } finally {
    reporter.stop();
  }
  const rate = summary.seconds > 0 ? Math.round(summary.read / summary.seconds) : summary.read;
  console.log(`read ${summary.read}, created ${summary.created}, unchanged ${summary.unchanged}, rejected ${summary.rejected} in ${summary.seconds} s (${rate} records/s)`);
  if (summary.rejected === 0) {
    fs.rmSync(rejectsPath, { force: true });
    return 0;
  }
  console.log(`rejected rows (line, code, message): ${rejectsPath}`);
  return EXIT_ROWS_REJECTED;
}
