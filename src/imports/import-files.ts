import fs from "node:fs";
import path from "node:path";
import { ensureOwnDir, ensurePrivateDir } from "../private-files.ts";
import type { ImportFormat } from "./import-runner.ts";

/** Import ids are minted by the upload route (`imp_` + 12 base64url characters); nothing else is one. */
export const IMPORT_ID = /^imp_[A-Za-z0-9_-]{12}$/;
const IMPORT_FORMATS: readonly ImportFormat[] = ["ndjson", "csv"];

export function isImportId(value: unknown): value is string {
  return typeof value === "string" && IMPORT_ID.test(value);
}

export function isImportFormat(value: unknown): value is ImportFormat {
  return (IMPORT_FORMATS as readonly unknown[]).includes(value);
}

export function importsDir(dataDir: string): string {
  return path.join(path.resolve(dataDir), "imports");
}

/** Creates DATA_DIR and DATA_DIR/imports owner-only. */
export function ensureImportsDir(dataDir: string): string {
  ensurePrivateDir(path.resolve(dataDir));
  const dir = importsDir(dataDir);
  ensureOwnDir(dir);
  return dir;
}

/**
 * The upload and rejects files of one import. The id and format are checked here, the one place
 * these paths are built, and the result must lie strictly inside DATA_DIR/imports: a job or a URL
 * can never name a file anywhere else. Throws a plain Error (callers map it to their own refusal).
 */
export function importFiles(dataDir: string, importId: string, format: ImportFormat): { data: string; rejects: string } {
  if (!isImportId(importId) || !isImportFormat(format)) throw new Error("not an import id or format");
  const dir = importsDir(dataDir);
  const data = path.resolve(dir, `${importId}.${format}`);
  const rejects = path.resolve(dir, `${importId}.rejects.ndjson`);
  for (const file of [data, rejects]) {
    if (path.dirname(file) !== dir) throw new Error("import file outside the imports folder");
  }
  return { data, rejects };
}

/** The rejects file of an import, when it has one with content. */
export function rejectsFileOf(dataDir: string, importId: string): string | null {
  if (!isImportId(importId)) return null;
  const file = importFiles(dataDir, importId, "ndjson").rejects;
  try {
    const stat = fs.lstatSync(file);
    return stat.isFile() && stat.size > 0 ? file : null;
  } catch {
    return null;
  }
}
