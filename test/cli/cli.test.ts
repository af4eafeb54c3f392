import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrl, uniquePrefix } from "../helpers/redis.ts";
import { TEST_SECRET, tempDir } from "../helpers/temp-hub.ts";

const run = promisify(execFile);
const BIN = path.resolve("bin/fpr-hub.js");

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(dataDir: string, ...args: string[]): Promise<Outcome> {
  const env = { ...process.env, DATA_DIR: dataDir, HUB_SECRET: TEST_SECRET, DEMO_SEED: "off", NODE_ENV: "development" };
  return run(process.execPath, [BIN, ...args], { env, timeout: 30_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

// Each call starts a Node process running the compiled hub (dist/): slow on a busy machine.
const CLI_TIMEOUT = 180_000;

describe("command line", () => {
  const dataDir = tempDir();

  it("prints --help for every command", async () => {
    for (const args of [[], ["start"], ["api"], ["partner", "create"], ["key", "create"], ["key", "revoke"], ["check"]]) {
      const outcome = await cli(dataDir, ...args, "--help");
      expect(outcome.code, args.join(" ")).toBe(0);
      expect(outcome.stdout).toMatch(/Usage: fpr-hub/);
    }
  }, CLI_TIMEOUT);

  it("creates a partner and a key whose secret is the last line, then revokes it", async () => {
    const partner = await cli(dataDir, "partner", "create", "--name", "Lakeside Hotels", "--industry", "ACCOMMODATION", "--province", "33");
    expect(partner.code).toBe(0);
    const partnerId = partner.stdout.trim();
    expect(partnerId).toMatch(/^prt_/);
    const key = await cli(dataDir, "key", "create", "--role", "PARTNER", "--partner", partnerId, "--scopes", "cards_check,LINEAGE_READ");
    expect(key.code).toBe(0);
    const lines = key.stdout.trim().split("\n");
    expect(lines.at(-1)).toMatch(/^fpr_[A-Za-z0-9_-]{43}$/);
    const keyId = /key (key_\S+)/.exec(lines[0])![1];
    expect(lines[0]).toContain("scopes CARDS_CHECK,LINEAGE_READ");
    const revoked = await cli(dataDir, "key", "revoke", keyId);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked ${keyId}`);
  }, CLI_TIMEOUT);

  it("fails with a one-line reason and a non-zero exit code", async () => {
    const cases: [string[], RegExp][] = [
      [["key", "create", "--role", "PARTNER"], /PARTNER key needs a partnerId/],
      [["key", "create", "--role", "VIEWER", "--scopes", "EVENTS_ALL"], /cannot carry EVENTS_ALL/],
      [["key", "create", "--role", "KING"], /Allowed choices/],
      [["key", "revoke", "key_nothing"], /does not exist/],
      [["partner", "create", "--name", "X", "--industry", "RAIL", "--province", "99"], /not a GB\/T 2260 province/],
      [["partner", "create", "--industry", "RAIL"], /required option/],
      [["check", "911124198108030024", "--issue-count", "x"], /--issue-count/],
      [["nonsense"], /unknown command/],
    ];
    for (const [args, reason] of cases) {
      const outcome = await cli(dataDir, ...args);
      expect(outcome.code, args.join(" ")).not.toBe(0);
      expect(outcome.stderr, args.join(" ")).toMatch(reason);
      expect(outcome.stderr).not.toMatch(/\n\s+at /);
    }
  }, CLI_TIMEOUT);

  it("stops on an invalid configuration value, naming the variable", async () => {
    const outcome = await run(process.execPath, [BIN, "check", "911124198108030024"], {
      env: { ...process.env, DATA_DIR: dataDir, PORT: "eighty" },
    }).catch((error) => error);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/^fpr-hub: PORT must be/);
  }, CLI_TIMEOUT);

  it("checks numbers: malformed, unknown", async () => {
    const malformed = await cli(dataDir, "check", "110101199003074258");
    expect(malformed.code).toBe(0);
    expect(malformed.stdout).toMatch(/MALFORMED/);
    expect(malformed.stdout).toMatch(/NOT_FOREIGNER_NUMBER/);
    const unknown = await cli(dataDir, "check", "911124198108030024", "--json");
    expect(JSON.parse(unknown.stdout)).toMatchObject({ result: "NOT_FOUND", recognized: false });
  }, CLI_TIMEOUT);
});

describe("fpr-hub start", () => {
  const dataDir = tempDir();
  let child: ReturnType<typeof spawn>;
  let output = "";

  beforeAll(async () => {
    child = spawn(process.execPath, [BIN, "start"], {
      env: { ...process.env, DATA_DIR: dataDir, PORT: "0", HUB_SECRET: "", NODE_ENV: "development", DEMO_SEED: "on", REDIS_URL: redisUrl(), QUEUE_PREFIX: uniquePrefix() },
    });
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    const deadline = Date.now() + 150_000;
    while (!/Stop with Ctrl-C/.test(output) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  }, 180_000);
  afterAll(async () => {
    // Waited for: a hub still stopping after the file ends would write to Redis and DATA_DIR behind the cleanup.
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
  }, CLI_TIMEOUT);

  it("seeds the demo register, prints the URL and demo keys, and answers with them", async () => {
    const url = /GraphQL\s+(http:\S+)/.exec(output)?.[1];
    const partnerKey = /PARTNER\s+(fpr_\S+)/.exec(output)?.[1];
    expect(url, output).toBeDefined();
    const response = await fetch(url!, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${partnerKey}` },
      body: JSON.stringify({ query: '{ checkCard(number: "911124198108030024") { result } }' }),
    });
    expect(((await response.json()) as any).data.checkCard.result).toBe("VALID");
  }, CLI_TIMEOUT);

  it("lets the CLI work while the hub runs", async () => {
    const outcome = await cli(dataDir, "check", "932682198501010017", "--issue-count", "0");
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/REPORTED_LOST/);
    const created = await cli(dataDir, "partner", "create", "--name", "Rail", "--industry", "RAIL");
    expect(created.code).toBe(0);
  }, CLI_TIMEOUT);

  it("stops on SIGTERM with exit 0", async () => {
    const exited = new Promise<[number | null, string | null]>((resolve) => child.once("exit", (code, signal) => resolve([code, signal])));
    child.kill("SIGTERM");
    expect(await exited, output).toEqual([0, null]);
  }, CLI_TIMEOUT);
});
