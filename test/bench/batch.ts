import path from "node:path";
import Database from "better-sqlite3";
import type { BenchContext, Row } from "./lib/context.ts";
import { createKeys, sharedApi } from "./lib/hub.ts";
import { round, runLoad, sampleNumbers, shuffled, warmUp } from "./lib/load.ts";
import { lookupCards } from "./lookup.ts";

const BATCH = 1000;
const BATCH_QUERY =
  "query($ns: [String!]!) { checkCards(numbers: $ns) { number result recognized issueCount card { version state validUntil holderStatus } } }";

/** The same columns the hub's lookup reads (src/cards/card-queries.ts), latest issue, by number. */
const CEILING_SQL = `
  SELECT c.number, c.issue_count AS issueCount, c.version, c.state, c.valid_from AS validFrom, c.valid_until AS validUntil,
         c.state_changed_at AS stateChangedAt, c.previous_number AS previousNumber, c.holder_id AS holderId,
         h.status AS holderStatus, h.current_number AS holderCurrentNumber
  FROM cards c JOIN holders h ON h.id = c.holder_id
  WHERE c.number = ? ORDER BY c.issue_count DESC LIMIT 1`;

/** The ceiling: the same lookups as raw prepared `get` + JSON.stringify, in one loop, for `seconds`. */
function rawChecksPerSecond(file: string, batches: string[][], seconds: number): { checksPerSecond: number; batches: number; bytes: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const statement = db.prepare(CEILING_SQL);
    const started = performance.now();
    const until = started + seconds * 1000;
    let done = 0;
    let bytes = 0;
    while (performance.now() < until) {
      const numbers = batches[done % batches.length];
      const results = new Array(numbers.length);
      for (let i = 0; i < numbers.length; i++) results[i] = statement.get(numbers[i]) ?? null;
      bytes += JSON.stringify(results).length;
      done += 1;
    }
    const elapsed = (performance.now() - started) / 1000;
    return { checksPerSecond: (done * BATCH) / elapsed, batches: done, bytes };
  } finally {
    db.close();
  }
}

export async function batch(ctx: BenchContext): Promise<Row> {
  const cards = lookupCards(ctx);
  const register = await ctx.register(cards);
  const [hub, keys, sampled] = await Promise.all([sharedApi(ctx, register), createKeys(ctx, register), sampleNumbers(register.file, cards, 10 * BATCH)]);
  const numbers = shuffled(sampled);
  const batches: string[][] = [];
  for (let i = 0; i + BATCH <= numbers.length; i += BATCH) batches.push(numbers.slice(i, i + BATCH));
  const seconds = ctx.quick ? 2 : 10;
  const connections = 4;
  {
    const headers = { "content-type": "application/json", authorization: `Bearer ${keys.partners[0]}` };
    const bodies = batches.map((ns) => JSON.stringify({ query: BATCH_QUERY, variables: { ns } }));
    const probe = await fetch(hub.graphql, { method: "POST", headers, body: bodies[0] });
    const probeText = await probe.text();
    if (probe.status !== 200 || probeText.includes('"errors"')) throw new Error(`checkCards failed: ${probe.status} ${probeText.slice(0, 300)}`);
    await warmUp({ url: hub.graphql, connections, headers, bodies }, ctx.quick ? 1 : 2);
    ctx.log("batch: measuring the hub");
    const measured = await runLoad({ url: hub.graphql, connections, headers, bodies, seconds });
    ctx.log("batch: measuring raw SQLite");
    await ctx.releaseShared(); // the ceiling runs in this process: give it the CPUs
    const checksPerSecond = measured.rps * BATCH;
    rawChecksPerSecond(path.join(register.dataDir, "fpr-hub.sqlite"), batches, 0.3); // warm
    const ceiling = rawChecksPerSecond(path.join(register.dataDir, "fpr-hub.sqlite"), batches, seconds);
    const ratio = checksPerSecond / ceiling.checksPerSecond;
    const bad = measured.non2xx + measured.errors;
    return {
      name: "batch",
      value: round(checksPerSecond),
      unit: "checks/s",
      detail: `${round(measured.rps, 1)} req/s of ${BATCH}, p99 ${measured.p99} ms`,
      ceiling: round(ceiling.checksPerSecond),
      ratio,
      target: "≥ 0.2×",
      met: ratio >= 0.2 && bad === 0,
      notes: `${cards} cards, ${connections} connections, ${seconds} s; ceiling in-process${bad ? `; ${bad} failed requests` : ""}`,
      data: { measured, ceiling, cards, batchSize: BATCH, connections, responseBytes: probeText.length },
    };
  }
}
