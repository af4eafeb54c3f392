import fs from "node:fs";

/**
 * Owner-only files and folders: the database, uploads, rejects, generated secrets and a private
 * Redis's files hold personal data or keys, so nothing the hub creates is readable by other users
 * of the machine, whatever the umask. Existing ones are tightened too (best effort: a folder the
 * hub does not own is left as it is).
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

/** Creates `dir` (and missing parents) owner-only, and tightens `dir` itself when it already exists. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
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
