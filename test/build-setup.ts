import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The hub's child-process tests run `bin/fpr-hub.js`, which runs the compiled build (dist/). So
 * that they never test a stale build, the run starts with `scripts/build.mjs --if-stale`: it
 * compiles when a source, the tsconfig or the manifest is newer than the last build, and returns
 * at once otherwise (`npm test` has just built).
 */
export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  try {
    execFileSync(process.execPath, [path.join(root, "scripts", "build.mjs"), "--if-stale"], { cwd: root, stdio: "inherit" });
  } catch {
    throw new Error("the build (dist/) failed, see tsc's output above; fix it, or run `npm run build` to see it again");
  }
}
