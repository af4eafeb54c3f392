import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** Folders tempDir() made in this test file; test/setup.ts removes them once the file is done. */
const madeDirs: string[] = [];

/** A fresh folder under the OS temp folder, removed when the test file ends. */
export function tempDir(prefix = "fpr-hub-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** Removes every folder tempDir() made (after the file's own afterAll hooks closed its hubs). */
export function removeTempDirs(): void {
  for (const dir of madeDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
