import fs from "node:fs";
import path from "node:path";
import { ConfigError, type HubConfig } from "./config.ts";
import { ensurePrivateDir } from "./private-files.ts";

/**
 * DATA_DIR (and the folder of DATABASE_PATH, when it lies elsewhere) made ready before anything
 * writes there: created when missing, and refused with a one-line reason naming the setting when it
 * is not a folder or this user cannot write to it. Without this the first write deep inside
 * (Redis's folder, SQLite's open, the generated secret) fails with a bare `EEXIST: mkdir` or
 * `SQLITE_CANTOPEN`.
 */

function reasonFor(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "EEXIST":
    case "ENOTDIR":
      return "is not a folder (it, or a folder on its path, is a file)";
    case "EACCES":
    case "EPERM":
      return `is not writable by this user${typeof process.getuid === "function" ? ` (uid ${process.getuid()})` : ""}`;
    case "EROFS":
      return "is on a read-only file system";
    case "ENOSPC":
      return "is on a full disk";
    default:
      return `cannot be used (${error.code ?? error.message})`;
  }
}

function prepare(dir: string, setting: string): void {
  try {
    ensurePrivateDir(dir);
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error("not a folder"), { code: "ENOTDIR" });
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (error) {
    const cause = error as NodeJS.ErrnoException;
    throw new ConfigError(`${setting} ${dir} ${reasonFor(cause)} [${cause.code ?? "error"}]: point ${setting} at a folder this user may write to`);
  }
}

/** Creates and checks the hub's folders; ConfigError naming DATA_DIR or DATABASE_PATH when unusable. */
export function prepareDataDir(config: Pick<HubConfig, "dataDir" | "databasePath">): void {
  prepare(config.dataDir, "DATA_DIR");
  const databaseDir = path.dirname(config.databasePath);
  if (path.resolve(databaseDir) !== path.resolve(config.dataDir)) prepare(databaseDir, "DATABASE_PATH's folder");
}
