import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import sqliteConfig from "../../drizzle.config.ts";
import pgConfig from "../../drizzle.pg.config.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const DRIZZLE_KIT = path.join(ROOT, "node_modules/drizzle-kit/bin.cjs");

/** Every file under `dir`, by relative path, with its content. */
function contents(dir: string): Record<string, string> {
  const files = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  return Object.fromEntries(files.map((entry) => {
    const file = path.join(entry.parentPath, entry.name);
    return [path.relative(dir, file), fs.readFileSync(file, "utf8")];
  }));
}

/**
 * Runs `drizzle-kit generate` for one dialect against a copy of its committed migrations: the
 * schema file and the migrations agree when it has nothing to write. (drizzle-kit wants `out`
 * relative to its working folder, so it runs in the copy's folder.)
 */
function generateIntoCopy(config: { dialect: string; schema?: string | string[]; out?: string }, skip: string[]): { output: string; committed: Record<string, string>; copy: Record<string, string> } {
  const committedDir = path.join(ROOT, config.out!);
  const work = tempDir("fpr-hub-drift-");
  fs.cpSync(committedDir, path.join(work, "out"), { recursive: true, filter: (source) => !skip.includes(path.relative(committedDir, source)) });
  fs.writeFileSync(path.join(work, "config.ts"), `export default ${JSON.stringify({ dialect: config.dialect, schema: path.join(ROOT, String(config.schema)), out: "./out" })};\n`);
  const output = execFileSync(process.execPath, [DRIZZLE_KIT, "generate", "--config", "config.ts"], { cwd: work, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  const committed = contents(committedDir);
  for (const name of Object.keys(committed)) if (skip.some((dir) => name.startsWith(`${dir}/`))) delete committed[name];
  return { output, committed, copy: contents(path.join(work, "out")) };
}

describe("migrations match the table definitions (run `npm run db:generate` after changing a schema)", () => {
  it("SQLite: drizzle/ from src/db/schema.ts", () => {
    expect(sqliteConfig.dialect).toBe("sqlite");
    // drizzle/pg/ is the other dialect's folder inside this one.
    const { output, committed, copy } = generateIntoCopy(sqliteConfig, ["pg"]);
    expect(output).toContain("No schema changes");
    expect(copy).toEqual(committed);
  });

  it("PostgreSQL: drizzle/pg/ from src/db/pg-schema.ts", () => {
    expect(pgConfig.dialect).toBe("postgresql");
    const { output, committed, copy } = generateIntoCopy(pgConfig, []);
    expect(output).toContain("No schema changes");
    expect(copy).toEqual(committed);
  });
});
