import fs from "node:fs";

/**
 * Owner-only files and folders: the database, uploads, rejects, generated secrets and a private
 * Redis's files hold personal data or keys, so nothing the hub creates is readable by other users
 * of the machine, whatever the umask. The hub's own files and folders that already exist with wider
 * permissions are tightened too (best effort).
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

function tighten(target: string, mode: number): void {
  try {
    if ((fs.statSync(target).mode & 0o777) !== mode) fs.chmodSync(target, mode);
  } catch {
    /* not ours to change (or already gone) */
  }
}

/**
 * Creates `dir` and missing parents owner-only. An existing folder is left as it is: DATA_DIR or
 * DATABASE_PATH's folder may be one the operator shares (the files in it are owner-only anyway).
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** A folder only the hub uses (DATA_DIR/imports, DATA_DIR/redis): created, or tightened, owner-only. */
export function ensureOwnDir(dir: string): void {
  ensurePrivateDir(dir);
  tighten(dir, PRIVATE_DIR_MODE);
}

/** Makes an existing file owner-only (no-op when it does not exist). */
export function makePrivate(file: string): void {
  if (fs.existsSync(file)) tighten(file, PRIVATE_FILE_MODE);
}

/** Writes a whole file owner-only (also when it already existed with wider permissions). */
export function writePrivateFile(file: string, content: string, flag: "w" | "wx" = "w"): void {
  const fd = fs.openSync(file, flag, PRIVATE_FILE_MODE);
  try {
    fs.fchmodSync(fd, PRIVATE_FILE_MODE);
    fs.writeFileSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
}

/** A write stream to an owner-only file; `wx` refuses a file that already exists. */
export function privateWriteStream(file: string, flag: "w" | "wx" = "w"): fs.WriteStream {
  const fd = fs.openSync(file, flag, PRIVATE_FILE_MODE);
  fs.fchmodSync(fd, PRIVATE_FILE_MODE);
  return fs.createWriteStream(file, { fd });
}
