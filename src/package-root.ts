/**
 * The one place that knows where the hub's own files live. Migrations (`drizzle/`), the emitted
 * schema (`schema/`) and the dashboard assets are read from the package root, never from the
 * working directory, so the hub runs the same from a service manager's folder as from the
 * checkout; and the same from the sources (tsx: this file is `src/package-root.ts`) as from the
 * build (`dist/src/package-root.js`). The root is the nearest folder above this file whose
 * package.json names this package.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_NAME = "fpr-hub";

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: unknown }).name === PACKAGE_NAME) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json of ${PACKAGE_NAME} above ${start}`);
  }
}

const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** A path inside the package, e.g. `packagePath("drizzle")`. */
export function packagePath(...segments: string[]): string {
  return path.join(PACKAGE_ROOT, ...segments);
}
