// Compiles the hub (src/, jobs/) to dist/ with tsc and tsconfig.build.json, the one build the
// hub runs from (bin/fpr-hub.js). tsc rather than esbuild: it is already the project's compiler,
// it emits type-graphql's legacy decorators with their metadata (esbuild emits no metadata) and
// rewrites the sources' `.ts` import specifiers to `.js` (rewriteRelativeImportExtensions), so the
// output is plain per-file ES modules with nothing bundled. The build is incremental; outputs
// whose source is gone are removed, so dist/ never carries a module the sources no longer have.
//
//   node scripts/build.mjs              build (what `npm run build` runs)
//   node scripts/build.mjs --prepare    `npm ci`'s prepare step: build when the dev dependencies
//                                       are installed; a production install (--omit=dev) has
//                                       none and keeps the dist/ it was given
//   node scripts/build.mjs --if-stale   build only when a source is newer than the last build
//                                       (the test suite's global setup)
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
const stamp = path.join(dist, ".build-stamp");
const SOURCE_DIRS = ["src", "jobs"];
const INPUTS = ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"];

function walk(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}

/** Newest change among what the build reads: a new, edited or deleted source counts. */
function newestInput() {
  let newest = 0;
  for (const dir of SOURCE_DIRS) {
    // A folder's mtime changes when a file in it is added, removed or renamed.
    for (const file of [path.join(root, dir), ...walk(path.join(root, dir)).flatMap((f) => [f, path.dirname(f)])]) {
      newest = Math.max(newest, fs.statSync(file).mtimeMs);
    }
  }
  for (const file of INPUTS) {
    const full = path.join(root, file);
    if (fs.existsSync(full)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function isFresh() {
  return fs.existsSync(stamp) && fs.existsSync(path.join(dist, "src", "cli.js")) && fs.statSync(stamp).mtimeMs >= newestInput();
}

/**
 * tsc, when the dev dependencies are installed; null on a production install. TypeScript alone
 * does not tell: `npm ci --omit=dev` still installs it as an optional peer of a dependency
 * (valibot, under @bull-board/api), without the @types packages the build needs.
 */
function findCompiler() {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  const missing = Object.keys(manifest.devDependencies ?? {}).filter((name) => !fs.existsSync(path.join(root, "node_modules", name, "package.json")));
  if (missing.length > 0) return null;
  try {
    return createRequire(path.join(root, "package.json")).resolve("typescript/bin/tsc");
  } catch {
    return null;
  }
}

/** Removes dist/<dir>/**.js (and .map, .d.ts) whose <dir>/**.ts is gone. */
function pruneOrphans() {
  for (const dir of SOURCE_DIRS) {
    for (const file of walk(path.join(dist, dir))) {
      const relative = path.relative(dist, file).replace(/(\.d)?\.js(\.map)?$/, "");
      if (relative === path.relative(dist, file)) continue;
      if (!fs.existsSync(path.join(root, `${relative}.ts`))) fs.rmSync(file);
    }
  }
}

function build(tsc) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    // A failed build leaves no stamp: the next --if-stale run builds again.
    fs.rmSync(stamp, { force: true });
    console.error(`build: tsc failed (exit ${result.status ?? result.signal}); dist/ is not usable`);
    process.exit(1);
  }
  pruneOrphans();
  fs.writeFileSync(stamp, `${new Date(started).toISOString()}\n`);
  // Dated when tsc started: a source edited while it ran is newer, so --if-stale builds again.
  fs.utimesSync(stamp, new Date(), new Date(started));
  console.log(`build: dist/ ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const mode = process.argv[2] ?? "";
if (!["", "--prepare", "--if-stale"].includes(mode)) {
  console.error(`build: unknown option ${mode}`);
  process.exit(2);
}
if (mode === "--if-stale" && isFresh()) process.exit(0);
const tsc = findCompiler();
if (!tsc) {
  if (mode !== "--prepare") {
    console.error("build: the dev dependencies (TypeScript and its type packages) are not installed (a production install?): run `npm ci`, then `npm run build`");
    process.exit(1);
  }
  if (fs.existsSync(path.join(dist, "src", "cli.js"))) console.log("build: no dev dependencies here (production install): not building, using the dist/ already in place");
  else console.warn("build: no dev dependencies here and no dist/: the hub cannot start. Build where they are installed (`npm ci && npm run build`), then copy dist/ here or prune (`npm prune --omit=dev`)");
  process.exit(0);
}
build(tsc);
