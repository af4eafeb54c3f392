import fs from "node:fs";

/**
 * Owner-only files and folders: the database, uploads, rejects, generated secrets and a private
 * Redis's files hold personal data or keys, so nothing the hub creates is readable by other users
 * of the machine, whatever the umask. The hub's own files and folders that already exist with wider
 * permissions are tightened too (best effort).
 */
const PRIVATE_DIR_MODE = 0o700;
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

/**
 * A folder only the hub uses (DATA_DIR/imports, DATA_DIR/redis): created, or tightened, owner-only.
 * One that is a symlink, or belongs to another user, is refused: whoever placed it could read or
 * swap what the hub writes there.
 */
export function ensureOwnDir(dir: string): void {
  ensurePrivateDir(dir);
  const stat = fs.lstatSync(dir);
  if (!stat.isDirectory() || (typeof process.getuid === "function" && stat.uid !== process.getuid())) {
    throw new Error(`${dir} must be a folder owned by the hub's user, not a symlink or another user's folder`);
  }
  tighten(dir, PRIVATE_DIR_MODE);
}

/** open(2) flags that never follow a symlink at the last path component. */
function openFlags(flag: "w" | "wx"): number {
  const { O_WRONLY, O_CREAT, O_TRUNC, O_EXCL, O_NOFOLLOW } = fs.constants;
  return O_WRONLY | O_CREAT | O_NOFOLLOW | (flag === "wx" ? O_EXCL : O_TRUNC);
}

/** Makes an existing file owner-only (no-op when it does not exist). */
export function makePrivate(file: string): void {
  if (fs.existsSync(file)) tighten(file, PRIVATE_FILE_MODE);
}

/** Writes a whole file owner-only (also when it already existed with wider permissions), never through a symlink. */
export function writePrivateFile(file: string, content: string, flag: "w" | "wx" = "w"): void {
  const fd = fs.openSync(file, openFlags(flag), PRIVATE_FILE_MODE);
  try {
    fs.fchmodSync(fd, PRIVATE_FILE_MODE);
    fs.writeFileSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
}

/** A write stream to an owner-only file, never through a symlink; `wx` refuses a file that already exists. */
export function privateWriteStream(file: string, flag: "w" | "wx" = "w"): fs.WriteStream {
  const fd = fs.openSync(file, openFlags(flag), PRIVATE_FILE_MODE);
  fs.fchmodSync(fd, PRIVATE_FILE_MODE);
  return fs.createWriteStream(file, { fd });
}
