import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { TEST_SECRET, tempDir } from "../helpers/temp-hub.ts";

const run = promisify(execFile);
const BIN = path.resolve("bin/fpr-hub.js");
const env = (dataDir: string) => ({ ...process.env, DATA_DIR: dataDir, HUB_SECRET: TEST_SECRET, DEMO_SEED: "off", NODE_ENV: "development" });

async function cli(dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, ...args], { env: env(dataDir), timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

/** Runs an import in a child process and samples its resident memory from /proc while it runs. */
async function importPeakRss(dataDir: string, file: string): Promise<{ code: number; peakMb: number; samplesMb: number[]; stdout: string }> {
  const child = spawn(process.execPath, [BIN, "import", file, "--no-events"], { env: env(dataDir) });
  let stdout = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  let peak = 0;
  const samplesMb: number[] = [];
  const sample = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0);
      peak = Math.max(peak, kb);
      if (kb > 0) samplesMb.push(kb / 1024);
    } catch {
      /* exited */
    }
  }, 50);
  const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
  clearInterval(sample);
  return { code, peakMb: Math.round(peak / 1024), samplesMb, stdout };
}

describe("import and generate on the command line", () => {
  it("generates the same file for the same seed, and a different one for another seed", async () => {
    const dir = tempDir();
    const a = await cli(dir, "generate", "--cards", "300", "--seed", "5", "--as-of", "2026-01-01");
    const b = await cli(dir, "generate", "--cards", "300", "--seed", "5", "--as-of", "2026-01-01");
    const c = await cli(dir, "generate", "--cards", "300", "--seed", "6", "--as-of", "2026-01-01");
    expect(a.stdout.trim().split("\n")).toHaveLength(300);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toBe(c.stdout);
    const csv = await cli(dir, "generate", "--cards", "10", "--format", "csv");
    expect(csv.stdout.split("\n")[0]).toBe("number,issueCount,validFrom,validUntil,previousNumber,englishName,chineseName,sex,state,revocationReason,holderStatus");
    expect((await cli(dir, "generate", "--cards", "many")).code).not.toBe(0);
  });

  it("exits 3 and writes a rejects file when rows are rejected; 0 on a clean re-import", async () => {
    const dir = tempDir();
    const file = path.join(dir, "register.ndjson");
    await cli(dir, "generate", "--cards", "200", "--seed", "2", "--as-of", "2026-01-01", "--out", file);
    fs.appendFileSync(file, '{"number": "not-a-card", "validFrom": "2024-01-01", "validUntil": "2030-01-01", "englishName": "X"}\n');
    const first = await cli(dir, "import", file);
    expect(first.code).toBe(3);
    expect(first.stdout).toMatch(/read 201, created 200, unchanged 0, rejected 1 in [\d.]+ s/);
    const rejects = fs.readFileSync(`${file}.rejects.ndjson`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(rejects).toEqual([expect.objectContaining({ line: 201, code: "INVALID_CARD_NUMBER" })]);
    expect(first.stderr).toMatch(/import: \d+ read/);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").split("\n").slice(0, 200).join("\n"));
    const again = await cli(dir, "import", file);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/read 200, created 0, unchanged 200, rejected 0/);
    expect(fs.existsSync(`${file}.rejects.ndjson`)).toBe(false);
    expect((await cli(dir, "import", path.join(dir, "missing.ndjson"))).stderr).toMatch(/^fpr-hub: no file/);
  });

  it("writes its rejects file owner-only, with no text from the file (names, numbers, formulas)", async () => {
    const dir = tempDir();
    const file = path.join(dir, "register.ndjson");
    const rejectsPath = `${file}.rejects.ndjson`;
    fs.writeFileSync(rejectsPath, "", { mode: 0o644 }); // left by an older run
    const lines = [
      { number: "SECRET NAME", validFrom: "2024-01-01", validUntil: "2030-01-01", englishName: "SECRET NAME" },
      { number: '=HYPERLINK("http://evil.example/","x")', validFrom: "2024-01-01", validUntil: "2030-01-01", englishName: "X", "SECRET NAME": 1 },
    ];
    fs.writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    expect((await cli(dir, "import", file)).code).toBe(3);
    expect(fs.statSync(rejectsPath).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(rejectsPath, "utf8");
    expect(text.trim().split("\n").map((l) => JSON.parse(l).line)).toEqual([1, 2]);
    expect(text).not.toMatch(/SECRET NAME|HYPERLINK/);
  });

  it("keeps memory flat: no upward trend over 100,000 rows, and a peak near a 10,000-row import's", async () => {
    const small = tempDir();
    const large = tempDir();
    const smallFile = path.join(small, "small.ndjson");
    const largeFile = path.join(large, "large.ndjson");
    await cli(small, "generate", "--cards", "10000", "--seed", "4", "--as-of", "2026-01-01", "--out", smallFile);
    await cli(large, "generate", "--cards", "100000", "--seed", "4", "--as-of", "2026-01-01", "--out", largeFile);
    const a = await importPeakRss(small, smallFile);
    const b = await importPeakRss(large, largeFile);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(b.stdout).toMatch(/read 100000, created 100000/);
    // The heap saws up and down with garbage collection; what must not happen is growth with the
    // number of rows: the second half of the run peaks no higher than the first half (with slack).
    const half = Math.floor(b.samplesMb.length / 2);
    const firstHalf = Math.max(...b.samplesMb.slice(0, half));
    const secondHalf = Math.max(...b.samplesMb.slice(half));
    expect(b.samplesMb.length).toBeGreaterThan(20);
    expect(secondHalf).toBeLessThan(firstHalf * 1.2 + 20);
    expect(b.peakMb).toBeLessThan(a.peakMb * 1.5 + 40);
    expect(b.peakMb).toBeLessThan(400);
  }, 300_000);
});
