import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/receiver.ts";
import { redisUrl, uniquePrefix } from "../helpers/redis.ts";
import { TEST_SECRET, tempDir } from "../helpers/temp-hub.ts";

/**
 * The hub as an operator's service manager runs it: the compiled build (`bin/fpr-hub.js` runs
 * dist/, which test/build-setup.ts keeps fresh), from a working directory outside the checkout.
 * Migrations, the GraphQL schema and the dashboard assets must come from the package, nothing may
 * be written to the working directory, and `DATA_DIR` keeps its documented default (`./data` of
 * the working directory). Before the build, a start from elsewhere died in tsx ("Parameter
 * decorators only work when experimental decorators are enabled": tsx read no tsconfig there).
 */

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(ROOT, "bin", "fpr-hub.js");
const TIMEOUT = 180_000;

function outsideCheckout(): string {
  const dir = tempDir("fpr-hub-elsewhere-");
  // The point of the test: no tsconfig.json, package.json or node_modules above this folder's path.
  expect(path.relative(ROOT, dir).startsWith("..")).toBe(true);
  return dir;
}

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, HUB_SECRET: TEST_SECRET, DEMO_SEED: "off", NODE_ENV: "development", ...extra };
}

describe("the compiled hub, started from a folder outside the checkout", () => {
  const cwd = outsideCheckout();
  const dataDir = tempDir();
  const prefix = uniquePrefix();
  let child: ChildProcess | null = null;
  let output = "";
  let url = "";
  let adminKey = "";

  beforeAll(async () => {
    // A key made by the CLI, run from the same foreign folder, into the hub's DATA_DIR.
    const created = await run(process.execPath, [BIN, "key", "create", "--role", "ADMIN"], { cwd, env: env({ DATA_DIR: dataDir }), timeout: 60_000 });
    adminKey = created.stdout.trim().split("\n").at(-1)!;
    expect(adminKey).toMatch(/^fpr_/);

    child = spawn(process.execPath, [BIN, "start"], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: env({ DATA_DIR: dataDir, PORT: "0", REDIS_URL: redisUrl(), QUEUE_PREFIX: prefix }),
    });
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    await eventually(
      () => {
        if (child!.exitCode !== null || child!.signalCode !== null) throw new Error(`the hub exited at start (${child!.exitCode ?? child!.signalCode}): ${output}`);
        return /Stop with Ctrl-C/.test(output);
      },
      150_000,
      "the hub's banner",
    );
    url = /GraphQL\s+(http:\/\/\S+)\/graphql/.exec(output)![1];
  }, TIMEOUT);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once("exit", resolve));
      process.kill(child.pid!, "SIGTERM");
      const force = setTimeout(() => child!.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(force);
    }
    // Leave no queue keys behind in the shared test Redis.
    const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
    try {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
    } finally {
      redis.disconnect();
    }
  }, TIMEOUT);

  it("answers /healthz", async () => {
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("answers a GraphQL query with a key: migrations and schema came from the package", async () => {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ query: '{ checkCard(number: "911124198108030024") { result recognized } }' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { checkCard: { result: "NOT_FOUND", recognized: false } } });
  });

  it("serves the dashboard's page and assets from the package", async () => {
    const page = await fetch(`${url}/dashboard/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(fs.readFileSync(path.join(ROOT, "src", "dashboard", "assets", "index.html"), "utf8"));
    const script = await fetch(`${url}/dashboard/app.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toBe(fs.readFileSync(path.join(ROOT, "src", "dashboard", "assets", "app.js"), "utf8"));
  });

  it("runs the build, not the sources, and writes nothing to its working directory", () => {
    expect(output).not.toMatch(/decorators|unexpected error/i);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});

describe("DATA_DIR's default", () => {
  it("is ./data of the working directory, as documented", async () => {
    const cwd = outsideCheckout();
    const environment = env({});
    delete environment.DATA_DIR;
    delete environment.DATABASE_PATH;
    const created = await run(process.execPath, [BIN, "partner", "create", "--name", "Elsewhere", "--industry", "RAIL"], { cwd, env: environment, timeout: 60_000 });
    expect(created.stdout.trim()).toMatch(/^prt_/);
    expect(fs.existsSync(path.join(cwd, "data", "fpr-hub.sqlite"))).toBe(true);
  }, TIMEOUT);
});

describe("the build", () => {
  it("prints the committed schema: decorator metadata changes no GraphQL type", async () => {
    const script = `const m = await import(${JSON.stringify(new URL("../../dist/src/api/schema-file.js", import.meta.url).href)}); process.stdout.write(m.emittedSchemaText());`;
    const printed = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: outsideCheckout(), timeout: 60_000 });
    expect(printed.stdout).toBe(fs.readFileSync(path.join(ROOT, "schema", "schema.graphql"), "utf8"));
  }, TIMEOUT);
});
