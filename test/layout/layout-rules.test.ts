/**
 * The layout rules of the architecture fail the build when broken: `npm test` runs dependency-cruiser
 * (.dependency-cruiser.cjs) and eslint (eslint.config.js) over the tree. Here each rule is broken
 * on purpose, in a scratch tree laid out like this one, and must be reported by name; the real
 * tree must have no finding.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/temp-dir.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const DEPCRUISE = path.join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");
const run = promisify(execFile);

/** Files of a scratch tree, each breaking (or keeping) one rule. */
const PROBES: Record<string, string> = {
  "src/errors.ts": "export const E = 1;\n",
  "src/db/client.ts": 'import "../errors.ts";\nexport const client = 1;\n',
  "src/db/schema.ts": "export const cards = 1;\n",
  "jobs/queues.ts": "export const q = 1;\n",
  "src/api/context.ts": "export interface HubContext { id: string }\n",
  "src/app/services.ts": "export const services = 1;\n",
  // kernel-imports-no-domain
  "src/http/respond.ts": 'import { issue } from "../cards/card-issuing.ts";\nexport const r = issue;\n',
  // card-numbers-pure
  "src/card-numbers/card-number.ts": 'import { client } from "../db/client.ts";\nexport const n = client;\n',
  // domain-order-partners (partners may not import cards)
  "src/partners/roles.ts": 'import { issue } from "../cards/card-issuing.ts";\nexport const roles = issue;\n',
  // sanctioned upward imports: jobs/queues.ts and the request context's type
  "src/cards/card-issuing.ts": 'import { q } from "../../jobs/queues.ts";\nimport type { HubContext } from "../api/context.ts";\nexport const issue = q;\nexport type C = HubContext;\n',
  // domain-order-demo-dashboard (a domain may not import app/)
  "src/demo/demo-seed.ts": 'import { services } from "../app/services.ts";\nexport const seed = services;\n',
  // domain-siblings: webhooks and imports stand side by side
  "src/webhooks/fanout.ts": 'import { run } from "../imports/import-runner.ts";\nexport const f = run;\n',
  "src/imports/import-runner.ts": 'import { issue } from "../cards/card-issuing.ts";\nexport const run = issue;\n',
  // sql-in-store-files
  "src/coverage/coverage-service.ts": 'import { cards } from "../db/schema.ts";\nimport { seed } from "../demo/demo-seed.ts";\nexport const c = cards + seed;\n',
  // no-circular
  "src/events/a.ts": 'import { b } from "./b.ts";\nexport const a = () => b;\n',
  "src/events/b.ts": 'import { a } from "./a.ts";\nexport const b = () => a;\n',
  "src/cli.ts": [
    "src/http/respond.ts", "src/card-numbers/card-number.ts", "src/partners/roles.ts", "src/demo/demo-seed.ts",
    "src/webhooks/fanout.ts", "src/coverage/coverage-service.ts", "src/events/a.ts",
  ].map((file, i) => `import * as m${i} from "./${file.slice(4)}";\nvoid m${i};\n`).join(""),
};

function writeScratchTree(): string {
  const dir = tempDir("layout-");
  for (const [file, text] of Object.entries(PROBES)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(dir, "tsconfig.json"));
  return dir;
}

async function cruise(cwd: string): Promise<{ rule: string; from: string; to: string }[]> {
  const args = [DEPCRUISE, "src", "jobs", "--config", path.join(ROOT, ".dependency-cruiser.cjs"), "--output-type", "json"];
  const { stdout } = await run(process.execPath, args, { cwd, maxBuffer: 64 * 1024 * 1024 }).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
  const result = JSON.parse(stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  return result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

describe("the layout rules", () => {
  it("report each broken import rule by name, and let the sanctioned upward imports through", async () => {
    const found = await cruise(writeScratchTree());
    const has = (rule: string, from: string) => found.some((v) => v.rule === rule && v.from === from);
    expect(has("kernel-imports-no-domain", "src/http/respond.ts"), JSON.stringify(found)).toBe(true);
    expect(has("card-numbers-pure", "src/card-numbers/card-number.ts")).toBe(true);
    expect(has("domain-order-partners", "src/partners/roles.ts")).toBe(true);
    expect(has("domain-order-demo-dashboard", "src/demo/demo-seed.ts")).toBe(true);
    expect(has("domain-siblings-verification-webhooks-imports", "src/webhooks/fanout.ts")).toBe(true);
    expect(has("sql-in-store-files", "src/coverage/coverage-service.ts")).toBe(true);
    expect(found.some((v) => v.rule === "no-circular" && v.from.startsWith("src/events/"))).toBe(true);
    // cards/ taking jobs/queues.ts and the context's type is allowed; imports taking cards/ is downward.
    expect(found.filter((v) => v.from === "src/cards/card-issuing.ts" || v.from === "src/imports/import-runner.ts")).toEqual([]);
  }, 60_000);

  it("find nothing in the real tree", async () => {
    expect(await cruise(ROOT)).toEqual([]);
  }, 60_000);

  it("lint refuses a clock in card-numbers/ and SQL outside store files", async () => {
    // The probes exist only as text: the type-aware rules (which need the file in the project) are left out.
    const eslint = new ESLint({
      cwd: ROOT,
      overrideConfig: {
        languageOptions: { parserOptions: { projectService: false } },
        rules: { "@typescript-eslint/no-floating-promises": "off", "@typescript-eslint/no-misused-promises": "off" },
      },
    });
    const messages = async (filePath: string, code: string) =>
      (await eslint.lintText(code, { filePath: path.join(ROOT, filePath) }))[0].messages.map((m) => m.message);
    expect(await messages("src/card-numbers/probe.ts", "export const today = Date.now();\n")).toContain("card-numbers/ reads no clock: take `today` as a parameter.");
    expect(await messages("src/card-numbers/probe.ts", "export const today = new Date();\n")).toContain("card-numbers/ reads no clock: take `today` as a parameter.");
    const sql = 'declare const db: { $client: { prepare(s: string): unknown } };\nexport const s = db.$client.prepare("SELECT 1");\n';
    expect(await messages("src/cards/probe.ts", sql)).toContain("SQL lives in store files (*.store.ts, *-queries.ts) and db/.");
    expect(await messages("src/cards/probe.store.ts", sql)).toEqual([]);
  }, 60_000);
});
