/**
 * Disk full, end to end (issue 11). Two ways to fill the storage, both genuine:
 * - a real full disk: DATA_DIR on a small tmpfs of the test's own, filled with a file until the
 *   kernel says ENOSPC, the hub (`fpr-hub start`, api and worker) a real child process;
 * - SQLite's own limit (`PRAGMA max_page_count`), the hub in-process: runs where mounting is refused.
 * Either way: the hub survives its audit flush failing, checks are still answered, a mutation is
 * SERVICE_UNAVAILABLE (HTTP 503, Retry-After) and changes nothing, /readyz is 503 with
 * `storage-unavailable` while full and 200 once space is back; then the same mutation succeeds,
 * the buffered audit records and key uses are written, and nothing stored before is lost.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCard } from "../../src/cards/card-issuing.ts";
import { loadConfig } from "../../src/config.ts";
import { closeServices } from "../../src/app/services.ts";
import { openServices } from "../../src/app/open-services.ts";
import { eventually } from "../helpers/receiver.ts";
import { redisUrl, uniquePrefix } from "../helpers/redis.ts";
import { capPages, fillDisk, freeBytes, mountTmpfs } from "../helpers/storage-full.ts";
import { TEST_SECRET, TestHub } from "../helpers/temp-hub.ts";
import { v2023 } from "../helpers/webhook-fixtures.ts";

const BIN = path.resolve("bin/fpr-hub.js");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CHECK = "query($n: String!) { checkCard(number: $n) { result } }";
const ISSUE = "mutation($input: IssueCardInput!) { issueCard(input: $input) { number state } }";
const REVOKE = 'mutation($n: String!) { revokeCard(number: $n, reason: "fraud") { number state } }';
const issueInput = (number: string) => ({ number, validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "TEST, HOLDER" });

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: { message: string; extensions: Record<string, unknown> }[] };
}

async function post(url: string, secret: string, query: string, variables: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer["body"] };
}

async function readiness(url: string): Promise<{ status: number; problems: string[]; warnings: string[] }> {
  const response = await fetch(`${url}/readyz`);
  const body = (await response.json()) as { problems?: string[]; warnings?: string[] };
  return { status: response.status, problems: body.problems ?? [], warnings: body.warnings ?? [] };
}

/** A mutation refused because storage is full: 503, Retry-After, SERVICE_UNAVAILABLE, no SQL or path shown. */
function expectUnavailable(answer: Answer, hidden: string[]): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(503);
  expect(answer.headers.get("retry-after")).toBe("5");
  expect(answer.body.data ?? null).toBeNull();
  expect(answer.body.errors).toEqual([
    expect.objectContaining({
      message: "storage is temporarily unavailable (the disk is full); retry shortly",
      extensions: { code: "SERVICE_UNAVAILABLE", retryAfterMs: 5000 },
    }),
  ]);
  const text = JSON.stringify(answer.body);
  for (const secret of ["INSERT", "UPDATE", "sqlite", "SQLITE", ...hidden]) expect(text).not.toContain(secret);
}

function integrityOf(sqlite: Database.Database): string {
  return String(sqlite.pragma("integrity_check", { simple: true }));
}

const mount = mountTmpfs(16);
const mountRefused = typeof mount === "string" ? mount : null;

describe.skipIf(mountRefused !== null)(`a real full disk, the hub a child process${mountRefused ? ` (skipped: ${mountRefused})` : ""}`, () => {
  const fs = typeof mount === "string" ? null : mount;
  const dataDir = fs ? path.join(fs.dir, "data") : "";
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    PORT: "0",
    HOST: "127.0.0.1",
    DEMO_SEED: "off",
    NODE_ENV: "test",
    HUB_SECRET: TEST_SECRET,
    REDIS_URL: redisUrl(),
    QUEUE_PREFIX: uniquePrefix(),
    STORAGE_MIN_FREE_BYTES: String(1024 * 1024),
    STORAGE_CHECK_MS: "200",
    LOG_LEVEL: "info",
  };
  let child: ChildProcess | null = null;
  let output = "";
  let url = "";
  let freeSpace: (() => void) | null = null;
  const keys = { partner: "", partnerId: "", fresh: "", freshId: "", issuer: "", admin: "" };
  const [A, B] = [v2023(1), v2023(2)];

  beforeAll(async () => {
    // The register before the disk fills: two cards, a partner with two keys (one first used while full).
    const services = openServices(loadConfig(env));
    const partner = services.partners.create({ name: "Rail", industry: "RAIL", provinceCode: "11" });
    const partnerKey = services.apiKeys.create({ role: "PARTNER", partnerId: partner.id, scopes: ["CARDS_CHECK"] });
    const freshKey = services.apiKeys.create({ role: "PARTNER", partnerId: partner.id, scopes: ["CARDS_CHECK"] });
    Object.assign(keys, { partner: partnerKey.secret, partnerId: partnerKey.apiKey.id, fresh: freshKey.secret, freshId: freshKey.apiKey.id });
    keys.issuer = services.apiKeys.create({ role: "ISSUER" }).secret;
    keys.admin = services.apiKeys.create({ role: "ADMIN" }).secret;
    for (const number of [A, B]) issueCard(services.register, issueInput(number));
    closeServices(services);
    services.db.$client.close();

    child = spawn(process.execPath, [BIN, "start"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    await eventually(() => /GraphQL\s+http:\/\/\S+/.test(output) || child!.exitCode !== null, 60_000, "the hub to start");
    url = /GraphQL\s+(http:\/\/\S+)\/graphql/.exec(output)?.[1] ?? "";
    expect(url, output).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  }, 90_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
    freeSpace?.();
    fs?.unmount();
  });

  it("survives, answers checks, refuses mutations with 503 and says not ready while full; recovers when space is back, losing nothing", async () => {
    expect(await readiness(url)).toEqual({ status: 200, problems: [], warnings: [] });
    expect((await post(url, keys.partner, CHECK, { n: A })).body.data.checkCard.result).toBe("VALID");
    let partnerChecks = 1;

    const fullAt = new Date().toISOString();
    freeSpace = fillDisk(fs!.dir);
    expect(freeBytes(fs!.dir)).toBe(0);
    // Reads are answered while the disk is full; their audit records wait in memory.
    for (let i = 0; i < 20; i += 1) {
      const answer = await post(url, keys.partner, CHECK, { n: A });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ data: { checkCard: { result: "VALID" } } });
      partnerChecks += 1;
    }
    expect((await post(url, keys.fresh, CHECK, { n: B })).body.data.checkCard.result).toBe("VALID");
    await eventually(async () => (await readiness(url)).status === 503, 30_000, "/readyz to say not ready");
    const notReady = await readiness(url);
    expect(notReady.problems).toEqual(expect.arrayContaining(["storage-unavailable", "storage-low"]));

    // A write may still fit in space SQLite already holds (its WAL file); one that needs more is
    // refused whole, with a retry hint. Issue until one is refused.
    const issuedWhileFull: string[] = [];
    let refused: string | null = null;
    for (let n = 10; n < 60 && !refused; n += 1) {
      const answer = await post(url, keys.issuer, ISSUE, { input: issueInput(v2023(n)) });
      if (answer.status === 200) {
        issuedWhileFull.push(v2023(n));
        continue;
      }
      expectUnavailable(answer, [fs!.dir]);
      refused = v2023(n);
    }
    expect(refused, "no issue was refused on the full disk").not.toBeNull();
    expect((await post(url, keys.partner, CHECK, { n: refused! })).body.data.checkCard.result).toBe("NOT_FOUND"); // it left nothing
    partnerChecks += 1;
    // Outside the register too: a raw SQLITE_FULL reaches the one error mapping as SERVICE_UNAVAILABLE
    // (and is never answered as created while nothing was stored: see test/db/returning-write.test.ts).
    let partnersWhileFull = 0;
    for (let i = 0; i < 50; i += 1) {
      const answer = await post(url, keys.admin, `mutation { createPartner(name: "Air ${i}", industry: AVIATION) { id } }`, {});
      if (answer.status === 200) {
        partnersWhileFull += 1;
        continue;
      }
      expectUnavailable(answer, [fs!.dir]);
      break;
    }
    expect(partnersWhileFull).toBeLessThan(50);
    // And a REST route: an upload the disk cannot hold is 503 (not "interrupted", 400).
    const upload = await fetch(`${url}/imports`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson", authorization: `Bearer ${keys.issuer}` },
      body: `${JSON.stringify(issueInput(v2023(9)))}\n`.repeat(2000),
    });
    expect(upload.status).toBe(503);
    expect(upload.headers.get("retry-after")).toBe("5");
    expect(await upload.json()).toEqual({ errors: [{ message: "storage is temporarily unavailable (the disk is full); retry shortly", extensions: { code: "SERVICE_UNAVAILABLE", retryAfterMs: 5000 } }] });
    // The audit flush has failed (logged, at most every 10 s), and the process is still there.
    await eventually(() => output.includes("storage: audit could not write"), 30_000, "the failed audit flush to be logged");
    await sleep(1_500); // a few more failing flushes (every 250 ms)
    expect(child!.exitCode, output).toBeNull();
    expect((await post(url, keys.partner, CHECK, { n: B })).body.data.checkCard.result).toBe("VALID");
    partnerChecks += 1;
    const releasedAt = new Date().toISOString();

    freeSpace();
    freeSpace = null;
    // The problem clears on the next successful write, the storage-low warning on the next free-space measurement: wait for both.
    await eventually(async () => JSON.stringify(await readiness(url)) === JSON.stringify({ status: 200, problems: [], warnings: [] }), 30_000, "/readyz to say ready again");
    expect(await readiness(url)).toEqual({ status: 200, problems: [], warnings: [] });
    // The refused changes succeed now.
    expect((await post(url, keys.issuer, ISSUE, { input: issueInput(refused!) })).body).toEqual({ data: { issueCard: { number: refused, state: "VALID" } } });
    expect((await post(url, keys.issuer, REVOKE, { n: B })).body).toEqual({ data: { revokeCard: { number: B, state: "REVOKED" } } });
    expect((await post(url, keys.admin, 'mutation { createPartner(name: "Air", industry: AVIATION) { name } }', {})).body).toEqual({ data: { createPartner: { name: "Air" } } });
    await eventually(async () => /^fpr_hub_audit_pending 0$/m.test(await (await fetch(`${url}/metrics`)).text()), 30_000, "the audit buffer to be written");

    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    child!.kill("SIGTERM");
    expect(await exited).toBe(0);

    const sqlite = new Database(path.join(dataDir, "fpr-hub.sqlite"));
    try {
      expect(integrityOf(sqlite)).toBe("ok");
      const count = (sql: string, ...args: unknown[]) => (sqlite.prepare(sql).get(...args) as { n: number }).n;
      expect(count("SELECT count(*) AS n FROM audit_log WHERE kind = 'CHECK' AND key_id = ?", keys.partnerId)).toBe(partnerChecks);
      expect(count("SELECT count(*) AS n FROM audit_log WHERE kind = 'CHECK' AND key_id = ?", keys.freshId)).toBe(1);
      // The fresh key was first used while the disk was full: its use was written after.
      const freshUse = (sqlite.prepare("SELECT last_used_at AS at FROM api_keys WHERE id = ?").get(keys.freshId) as { at: string | null }).at;
      expect(freshUse! >= fullAt && freshUse! <= releasedAt, `${freshUse} within ${fullAt}..${releasedAt}`).toBe(true);
      expect(count("SELECT count(*) AS n FROM partners")).toBe(1 + partnersWhileFull + 1);
      // Every card issued before, while full and after is there once, with its one event; the revocation too.
      const numbers = [A, B, ...issuedWhileFull, refused!].sort();
      expect(sqlite.prepare("SELECT number, state FROM cards ORDER BY number").all()).toEqual(numbers.map((number) => ({ number, state: number === B ? "REVOKED" : "VALID" })));
      const events = sqlite.prepare("SELECT type, card_number AS number FROM events ORDER BY sequence").all();
      expect(events).toEqual([A, B, ...issuedWhileFull, refused!].map((number) => ({ type: "CARD_ISSUED", number })).concat([{ type: "CARD_REVOKED", number: B }]));
    } finally {
      sqlite.close();
    }
  }, 180_000);
});

describe("SQLite's own limit (max_page_count), the hub in-process", () => {
  let hub: TestHub;
  let uncap: (() => void) | null = null;
  beforeAll(async () => {
    hub = await TestHub.start({ STORAGE_CHECK_MS: "200", ENUMERATION_LIMIT: "10000" });
  });
  afterAll(async () => {
    uncap?.();
    await hub.close();
  });

  it("answers checks and says not ready while SQLite is full, refuses the mutation that does not fit, and recovers", async () => {
    const url = hub.api.url;
    const issuer = hub.key("ISSUER");
    const { secret: partner } = hub.partnerKey(["CARDS_CHECK"]);
    const partnerKeyId = hub.services.db.$client.prepare("SELECT id FROM api_keys WHERE role = 'PARTNER'").get() as { id: string };
    const [A] = [v2023(1)];
    expect((await post(url, issuer, ISSUE, { input: issueInput(A) })).status).toBe(200);
    const sqlite = hub.services.db.$client;
    uncap = capPages(sqlite);

    // Checks fill the audit trail until the flush no longer fits.
    const numbers = Array.from({ length: 200 }, (_, i) => v2023(100 + i));
    let partnerChecks = 0;
    for (let round = 0; round < 200 && hub.services.audit.pendingCount === 0; round += 1) {
      const answer = await post(url, partner, "query($ns: [String!]!) { checkCards(numbers: $ns) { result } }", { ns: numbers });
      expect(answer.status).toBe(200);
      partnerChecks += numbers.length;
      await sleep(300); // one flush (every 250 ms)
    }
    await eventually(async () => (await readiness(url)).problems.includes("storage-unavailable"), 30_000, "storage-unavailable");
    expect((await readiness(url)).status).toBe(503);
    expect((await post(url, partner, CHECK, { n: A })).body).toEqual({ data: { checkCard: { result: "VALID" } } });
    partnerChecks += 1;

    // Issue until one does not fit: that one is refused and leaves the register as it was.
    // (The relay marks events dispatched meanwhile: that column is its own, not the register's.)
    const register = () => [
      ...["cards", "holders"].map((table) => sqlite.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all()),
      sqlite.prepare("SELECT sequence, type, card_number, issue_count, holder_id, occurred_at, data FROM events ORDER BY sequence").all(),
    ];
    let refused: string | null = null;
    for (let n = 2; n < 100 && !refused; n += 1) {
      const before = register();
      const answer = await post(url, issuer, ISSUE, { input: issueInput(v2023(n)) });
      if (answer.status === 200) continue;
      expectUnavailable(answer, [hub.config.dataDir]);
      expect(register()).toEqual(before);
      refused = v2023(n);
    }
    expect(refused, "no mutation was refused").not.toBeNull();

    uncap();
    uncap = null;
    await eventually(async () => (await readiness(url)).status === 200, 30_000, "/readyz to say ready again");
    expect((await post(url, issuer, ISSUE, { input: issueInput(refused!) })).body).toEqual({ data: { issueCard: { number: refused, state: "VALID" } } });
    await eventually(() => hub.services.audit.pendingCount === 0, 30_000, "the audit buffer to be written");
    const count = (sql: string, ...args: unknown[]) => (sqlite.prepare(sql).get(...args) as { n: number }).n;
    expect(count("SELECT count(*) AS n FROM audit_log WHERE key_id = ?", partnerKeyId.id)).toBe(partnerChecks);
    await eventually(() => count("SELECT count(*) AS n FROM api_keys WHERE last_used_at IS NOT NULL") === 2, 30_000, "key uses written");
    expect(integrityOf(sqlite)).toBe("ok");
  }, 120_000);
});
