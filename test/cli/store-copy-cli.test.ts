import { execFile } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, withClient, type TestDatabase } from "../helpers/postgres.ts";
import { TEST_SECRET, tempDir } from "../helpers/temp-hub.ts";

const run = promisify(execFile);
const BIN = path.resolve("bin/fpr-hub.js");

/** The built hub (`npm run build` first), as an operator runs it. */
function cli(dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DATA_DIR: dataDir, HUB_SECRET: TEST_SECRET, DEMO_SEED: "off", NODE_ENV: "development" };
  return run(process.execPath, [BIN, ...args], { env, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

/** A port on 127.0.0.1 nothing listens on: one the system just handed out and was closed again. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const CLI_TIMEOUT = 180_000;
const rowCount = (url: string, table: string) =>
  withClient(url, async (client) => Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n));

describe("fpr-hub store copy", () => {
  const dataDir = tempDir();
  let target: TestDatabase;

  beforeAll(async () => {
    target = await createTestDatabase();
    const partner = await cli(dataDir, "partner", "create", "--name", "Lakeside Hotels", "--industry", "ACCOMMODATION");
    expect(partner.code, partner.stderr).toBe(0);
    const key = await cli(dataDir, "key", "create", "--role", "PARTNER", "--partner", partner.stdout.trim());
    expect(key.code, key.stderr).toBe(0);
  }, CLI_TIMEOUT);
  afterAll(() => target.drop());

  it("copies the hub's database, one line per table, and names HUB_SECRET", async () => {
    const outcome = await cli(dataDir, "store", "copy", "--to", target.url);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toMatch(/^ {2}partners +1 rows .*counts equal$/m);
    expect(outcome.stdout).toMatch(/^ {2}api_keys +1 rows/m);
    expect(outcome.stdout).toMatch(/^copied \d+ rows of \d+ tables to .* highest event sequence 0 on both sides, the next event gets 1$/m);
    expect(outcome.stdout).toMatch(/same HUB_SECRET/);
    expect(outcome.stdout).not.toContain(new URL(target.url).password || "\u0000");
    expect(await rowCount(target.url, "partners")).toBe(1);
  }, CLI_TIMEOUT);

  it("refuses the same target again: it is not empty, and stays as it was", async () => {
    const outcome = await cli(dataDir, "store", "copy", "--to", target.url);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/^fpr-hub: store copy: the target database is not empty: table \w+ has rows/);
    expect(await rowCount(target.url, "partners")).toBe(1);
    expect(await rowCount(target.url, "api_keys")).toBe(1);
  }, CLI_TIMEOUT);

  it("fails with one line and exit 1 on a bad URL, an unreachable server, a missing target database or no source database", async () => {
    const missing = path.join(tempDir(), "nothing-here");
    const cases: [string, string, RegExp][] = [
      [dataDir, "mysql://localhost/hub", /--to must be a PostgreSQL URL/],
      [dataDir, "not a url", /--to must be a PostgreSQL URL/],
      [dataDir, `postgres://hub@127.0.0.1:${await closedPort()}/hub`, /cannot reach PostgreSQL at 127\.0\.0\.1:\d+\/hub \(ECONNREFUSED\); nothing was copied/],
      [dataDir, Object.assign(new URL(target.url), { pathname: "/no_such_database" }).toString(), /PostgreSQL at .*\/no_such_database refused: .*does not exist \[3D000\]; nothing was copied/],
      [missing, target.url, /no hub database at .*nothing-here.* nothing to copy/],
    ];
    for (const [dir, to, reason] of cases) {
      const outcome = await cli(dir, "store", "copy", "--to", to);
      expect(outcome.code, to).toBe(1);
      expect(outcome.stderr.trim().split("\n"), to).toHaveLength(1);
      expect(outcome.stderr, to).toMatch(reason);
    }
    expect(fs.existsSync(path.join(missing, "fpr-hub.sqlite"))).toBe(false);
  }, CLI_TIMEOUT);
});
