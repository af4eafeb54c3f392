/**
 * The benchmark suite (docs: /work/shared/performance.md). Every figure is reported beside a
 * ceiling measured in the same run on this machine.
 *   npm run bench [-- --quick] [-- --only lookup,batch]
 */
import { BenchContext, type Row } from "./lib/context.ts";
import { stopAllChildren } from "./lib/proc.ts";
import { formatRow, formatTable, machineInfo, writeResults } from "./lib/report.ts";
import { batch } from "./batch.ts";
import { fanout } from "./fanout.ts";
import { importBench, importCards } from "./import.ts";
import { lookup, lookupCards, sharedPlainServer } from "./lookup.ts";
import { memory } from "./memory.ts";
import { propagation } from "./propagation.ts";
import { RECEIVERS, sharedReceivers } from "./lib/webhooks.ts";

type Bench = (ctx: BenchContext) => Promise<Row>;

/** Run order: import first, so lookups (quick) and memory reuse the register it built. */
const BENCHMARKS: { name: string; run: Bench; quickSeconds: number; fullSeconds: number; target: string }[] = [
  { name: "import", run: importBench, quickSeconds: 30, fullSeconds: 420, target: "≥ 0.5×" },
  { name: "lookup", run: lookup, quickSeconds: 40, fullSeconds: 150, target: "≥ 0.25×; p99 ≤ 10 ms" },
  { name: "batch", run: batch, quickSeconds: 30, fullSeconds: 90, target: "≥ 0.2×" },
  { name: "fanout", run: fanout, quickSeconds: 40, fullSeconds: Number(process.env.BENCH_FANOUT_EVENTS) > 1000 ? 660 : 240, target: "≥ 0.5×" },
  { name: "propagation", run: propagation, quickSeconds: 40, fullSeconds: 90, target: "p99 ≤ 3× ceiling and ≤ 250 ms" },
  // Alone, memory first builds the import-sized register itself (untimed).
  { name: "memory", run: memory, quickSeconds: 40, fullSeconds: 200, target: "≤ 300 MB" },
];

function parseArgs(argv: string[]): { quick: boolean; only: string[] | null } {
  let quick = false;
  let only: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") quick = true;
    else if (arg === "--only") only = (argv[++i] ?? "").split(",").filter(Boolean);
    else if (arg.startsWith("--only=")) only = arg.slice(7).split(",").filter(Boolean);
    else if (arg !== "--") throw new Error(`unknown argument ${arg} (use --quick, --only name[,name])`);
  }
  const unknown = (only ?? []).filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(", ")}; known: ${BENCHMARKS.map((b) => b.name).join(", ")}`);
  return { quick, only };
}

async function withTimeout(bench: (typeof BENCHMARKS)[number], ctx: BenchContext): Promise<Row> {
  const seconds = ctx.quick ? bench.quickSeconds : bench.fullSeconds;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${seconds} s`)), seconds * 1000);
  });
  const started = performance.now();
  try {
    const row = await Promise.race([bench.run(ctx), timeout]);
    return { ...row, seconds: Math.round((performance.now() - started) / 100) / 10 };
  } catch (error) {
    // Children of a failed or timed-out benchmark are stopped at once, so it cannot linger.
    await stopAllChildren();
    const message = error instanceof Error ? error.message : String(error);
    return { name: bench.name, value: 0, unit: "", ceiling: null, ratio: null, target: bench.target, met: false, error: message.split("\n").slice(0, 6).join(" / "), seconds: Math.round((performance.now() - started) / 100) / 10 };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Untimed set-up, done at once and in parallel before any measurement: register files, the
 * lookup register of a full run, and the idle helper processes (plain server, receivers).
 */
async function prepare(ctx: BenchContext, selected: Set<string>): Promise<void> {
  const work: Promise<unknown>[] = [];
  const needsLookupRegister = ["lookup", "batch", "fanout", "propagation"].some((name) => selected.has(name));
  if (selected.has("import") || selected.has("memory")) work.push(ctx.generate(importCards(ctx)));
  if (needsLookupRegister && !(ctx.quick && selected.has("import"))) work.push(ctx.register(lookupCards(ctx)));
  if (selected.has("lookup")) work.push(sharedPlainServer(ctx));
  if (selected.has("fanout") || selected.has("propagation")) work.push(sharedReceivers(ctx, RECEIVERS(ctx)));
  await Promise.all(work);
}

async function main(): Promise<void> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const date = new Date().toISOString();
  const ctx = await BenchContext.open(quick);
  let interrupted = false;
  const onSignal = () => {
    // Ctrl-C reaches this process twice (from the terminal and relayed by tsx): clean up once.
    if (interrupted) return;
    interrupted = true;
    process.stderr.write("\nbench: interrupted; cleaning up\n");
    setTimeout(() => process.exit(130), 20_000).unref();
    void stopAllChildren().then(() => ctx.close()).finally(() => process.exit(130));
  };
  // A stray rejection (e.g. from a benchmark that already timed out) must not skip the clean-up.
  process.on("unhandledRejection", (reason) => process.stderr.write(`bench: unhandled rejection: ${String(reason)}\n`));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const rows: Row[] = [];
  process.stdout.write(`fpr-hub benchmarks (${quick ? "quick" : "full"}), Redis ${ctx.redis.source} ${ctx.redis.url}\n`);
  try {
    const selected = new Set(BENCHMARKS.map((b) => b.name).filter((name) => !only || only.includes(name)));
    ctx.log("preparing");
    await prepare(ctx, selected);
    for (const bench of BENCHMARKS) {
      if (!selected.has(bench.name)) continue;
      process.stdout.write(`\n▶ ${bench.name} …\n`);
      const row = await withTimeout(bench, ctx);
      rows.push(row);
      process.stdout.write(`${formatRow(row)}  [${row.seconds} s]\n`);
    }
  } finally {
    await stopAllChildren();
    await ctx.close();
  }
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  process.stdout.write(`\n${formatTable(rows)}\n\ntotal ${seconds} s\n`);
  const file = writeResults({ date, mode: quick ? "quick" : "full", seconds, machine: machineInfo(), results: rows });
  process.stdout.write(`results: ${file}\n`);
  process.exitCode = rows.some((row) => row.error) ? 1 : 0;
}

await main();
