// The npm registry mirror this project is built against serves only some platform builds of
// optional native packages (e.g. @msgpackr-extract/*-darwin-*), so `npm install` leaves them out
// of package-lock.json and `npm ci` then refuses the lock. This adds the missing optional
// platform entries (os/cpu-tagged, so npm skips them on other machines). Run after `npm install`.
import fs from "node:fs";

const lockFile = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(fs.readFileSync(lockFile, "utf8"));
const platform = /-(darwin|linux|win32|freebsd|android)-(x64|arm64|arm|ia32)(?:-[a-z]+)?$/;
let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const match = platform.exec(name);
    const target = `node_modules/${name}`;
    if (!match || lock.packages[target] || lock.packages[`${key}/${target}`]) continue;
    lock.packages[target] = { version, cpu: [match[2]], license: "MIT", optional: true, os: [match[1]] };
    added += 1;
  }
}
const [root, ...rest] = Object.entries(lock.packages);
lock.packages = Object.fromEntries([root, ...rest.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
fs.writeFileSync(lockFile, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platforms: added ${added} optional platform entries`);
