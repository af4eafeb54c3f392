import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type Database from "better-sqlite3";
import { storageTroubleOf } from "../../src/db/storage-errors.ts";
import { tempDir } from "./temp-dir.ts";

/**
 * Genuine storage failures for tests. `capPages` makes SQLite answer SQLITE_FULL on its own (the
 * database may not grow past its current pages, `PRAGMA max_page_count`); `mountTmpfs` and
 * `fillDisk` make the disk itself full (a small tmpfs, filled with a file until ENOSPC).
 */

/** Caps the connection's database at its current size; returns the function that lifts the cap. */
export function capPages(sqlite: Database.Database): () => void {
  const before = Number(sqlite.pragma("max_page_count", { simple: true }));
  sqlite.pragma(`max_page_count = ${Number(sqlite.pragma("page_count", { simple: true }))}`);
  return () => {
    sqlite.pragma(`max_page_count = ${before}`);
  };
}

/** Holds the write lock from a second connection (SQLITE_BUSY for everyone else); returns the release. */
export function holdWriteLock(sqlite: Database.Database, file: string, open: (file: string) => Database.Database): () => void {
  sqlite.pragma("busy_timeout = 0"); // answer BUSY at once rather than wait for the lock
  const holder = open(file);
  holder.exec("BEGIN IMMEDIATE");
  return () => {
    holder.exec("ROLLBACK");
    holder.close();
  };
}

export interface Tmpfs {
  dir: string;
  unmount(): void;
}

/** A small tmpfs of its own, or the reason it could not be mounted (not root, no mount). */
export function mountTmpfs(sizeMiB: number): Tmpfs | string {
  const dir = path.join(tempDir("fpr-hub-tmpfs-"), "mnt");
  fs.mkdirSync(dir);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMiB}m,mode=0700`, "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    return `mount -t tmpfs refused: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
  let mounted = true;
  return {
    dir,
    unmount() {
      if (!mounted) return;
      try {
        execFileSync("umount", [dir], { stdio: "pipe" });
      } catch {
        execFileSync("umount", ["-l", dir], { stdio: "pipe" }); // something still holds a file: detach now, freed when closed
      }
      mounted = false;
    },
  };
}

/** Fills the file system of `dir` with one file until the kernel says ENOSPC; returns the function that frees it. */
export function fillDisk(dir: string): () => void {
  const file = path.join(dir, "filler");
  const fd = fs.openSync(file, "w");
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          fs.writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw error;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return () => fs.rmSync(file, { force: true });
}

/** Free bytes in the file system of `dir`. */
export function freeBytes(dir: string): number {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/** The disk (or the database's size limit) is full: the trouble behind `error` is "disk-full". */
export function isStorageFull(error: unknown): boolean {
  return storageTroubleOf(error) === "disk-full";
}
