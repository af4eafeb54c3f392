import type { BenchContext, Row } from "./lib/context.ts";
import { createKeys, startHub } from "./lib/hub.ts";
import { round, runLoad, sampleNumbers, shuffled } from "./lib/load.ts";
import { rssSampler } from "./lib/proc.ts";
import { waitUntilIdle } from "./lib/settle.ts";
import { importCards } from "./import.ts";
import { LOOKUP_QUERY } from "./lookup.ts";

const MB = 1024 * 1024;

/** Peak RSS of `fpr-hub start` (api + worker in one process) serving lookups over the largest register. */
export async function memory(ctx: BenchContext): Promise<Row> {
  await ctx.releaseShared();
  const register = ctx.largestRegister() ?? (await ctx.register(importCards(ctx)));
  const prefix = ctx.prefix("memory");
  const keysReady = createKeys(ctx, register);
  const hub = await startHub(ctx, "start", register.dataDir, { QUEUE_PREFIX: prefix });
  const sampler = rssSampler(hub.child.pid, 100);
  let serving: ReturnType<typeof rssSampler> | null = null;
  try {
    // Start-up work first: the first expiry sweep of a register loaded with --no-events (settle.ts).
    const [keys, sampled, settled] = await Promise.all([
      keysReady,
      sampleNumbers(register.file, register.cards, 1000),
      waitUntilIdle(ctx, register.dataDir, prefix, ctx.quick ? 20_000 : 150_000),
    ]);
    const numbers = shuffled(sampled);
    const settledPeak = sampler.peak();
    serving = rssSampler(hub.child.pid, 100);
    const seconds = ctx.quick ? 3 : 10;
    const headers = { "content-type": "application/json", authorization: `Bearer ${keys.partners[0]}` };
    const bodies = numbers.map((n) => JSON.stringify({ query: LOOKUP_QUERY, variables: { n } }));
    ctx.log("memory: serving lookups");
    const load = await runLoad({ url: hub.graphql, connections: 50, headers, bodies, seconds });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const peak = sampler.stop();
    const servingPeak = serving.stop();
    const peakMb = peak / MB;
    const bad = load.non2xx + load.errors;
    return {
      name: "memory",
      value: round(peakMb, 1),
      unit: "MB",
      detail: `peak VmRSS, whole run; ${round(servingPeak / MB, 1)} MB while serving lookups`,
      ceiling: null,
      ratio: null,
      target: "≤ 300 MB",
      met: peakMb <= 300 && bad === 0,
      notes: `fpr-hub start over ${register.cards.toLocaleString("en-US")} cards${register.cards < 1_000_000 ? " (spec: 1,000,000)" : ""}: start-up and first expiry sweep (${settled.events} CARD_EXPIRED events, ${round(settled.seconds, 1)} s, peak ${round(settledPeak / MB, 1)} MB), then ${seconds} s of lookups at ${round(load.rps)} req/s${bad ? `; ${bad} failed requests` : ""}`,
      data: { peakBytes: peak, settledPeakBytes: settledPeak, servingPeakBytes: servingPeak, settled, samples: sampler.samples(), cards: register.cards, load },
    };
  } finally {
    sampler.stop();
    serving?.stop();
    await hub.stop();
  }
}
