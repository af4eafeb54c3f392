#!/usr/bin/env node
// Runs the compiled hub (dist/, built by `npm run build`, which `npm ci` runs as its prepare step).
// It resolves everything from its own location, so it starts from any working directory. In
// development, `npm run dev` runs the TypeScript sources through tsx instead.
import fs from "node:fs";

const entry = new URL("../dist/src/cli.js", import.meta.url);
if (!fs.existsSync(entry)) {
  process.stderr.write("fpr-hub: the build is missing (dist/src/cli.js): run `npm run build` in the hub's folder\n");
  process.exit(1);
}
await import(entry.href);
