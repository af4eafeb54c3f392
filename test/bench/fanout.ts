import type { BenchContext, Row } from "./lib/context.ts";
import { eventsAfter, newCardLines } from "./lib/events.ts";
import { subscribe, webhookHub } from "./lib/hub.ts";
import { round } from "./lib/load.ts";
import { RECEIVERS, sendSigned, sharedReceivers } from "./lib/webhooks.ts";
import { lookupCards } from "./lookup.ts";

const CONCURRENCY = 32; // WORKER_CONCURRENCY's default (per lane), which the hub runs with

/**
 * Subscriptions × events through the real path: the issuer uploads new cards (POST /imports), the
 * worker imports them with events, the outbox relay hands them to BullMQ, fan-out and signed
 * deliveries reach loopback receivers. Deliveries/s from the first event to the last delivery.
 */
export async function fanout(ctx: BenchContext): Promise<Row> {
  const subscriptions = ctx.quick ? 5 : 20;
  // The spec's 5,000 events (100,000 deliveries); BENCH_FANOUT_EVENTS overrides it; quick: 300.
  const eventCount = ctx.quick ? 300 : Number(process.env.BENCH_FANOUT_EVENTS || 5000);
  await ctx.releaseShared(["webhook-hub"]);
  const [{ register, hub }, receivers] = await Promise.all([webhookHub(ctx, () => ctx.register(lookupCards(ctx))), sharedReceivers(ctx, RECEIVERS(ctx))]);
  const dataDir = register.dataDir;
  const keys = register.keys!;
  try {
    const subs = [];
    const urls = receivers.urls.slice(0, subscriptions);
    for (const url of urls) subs.push(await subscribe(hub.graphql, keys.partners[0], url, ["CARD_ISSUED"]));
    const baseline = eventsAfter(dataDir, 0).maxSequence;
    const { lines } = newCardLines(eventCount);
    ctx.log("fanout: uploading the new cards");
    const posted = performance.timeOrigin + performance.now();
    const upload = await fetch(`${hub.url}/imports`, { method: "POST", headers: { authorization: `Bearer ${keys.issuer}`, "content-type": "application/x-ndjson" }, body: lines });
    const accepted = (await upload.json()) as { id?: string; errors?: unknown };
    if (upload.status !== 202 || !accepted.id) throw new Error(`POST /imports failed: ${upload.status} ${JSON.stringify(accepted)}`);
    const timeoutMs = ctx.quick ? 25_000 : eventCount > 1000 ? 600_000 : 200_000;
    const deadline = Date.now() + timeoutMs;
    let state = "";
    let summary: Record<string, number> | null = null;
    while (state !== "completed") {
      if (state === "failed" || Date.now() > deadline) throw new Error(`import ${accepted.id} ${state || "did not finish"}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const status = (await (await fetch(`${hub.url}/imports/${accepted.id}`, { headers: { authorization: `Bearer ${keys.issuer}` } })).json()) as { state: string; summary: Record<string, number> | null };
      state = status.state;
      summary = status.summary;
    }
    const created = eventsAfter(dataDir, baseline);
    const expected = created.count * subscriptions;
    const stats = await receivers.waitFor((s) => s.distinct >= expected, Math.max(1000, deadline - Date.now()), 100);
    const seconds = (stats.lastAt - created.firstAt!) / 1000;
    const rate = stats.distinct / seconds;

    // Ceiling: the same bodies, signed with the same secrets, straight to the same receivers.
    ctx.log("fanout: sending the ceiling");
    const bodies = Object.entries(await receivers.bodies()).sort(([a], [b]) => a.localeCompare(b));
    await receivers.reset();
    const ceiling = await sendSigned(subs.map((s, i) => ({ url: urls[i], secret: s.secret })), bodies, CONCURRENCY);
    const check = await receivers.stats();
    const ceilingRate = check.distinct / ceiling.seconds;
    const ratio = rate / ceilingRate;
    return {
      name: "fanout",
      value: round(rate),
      unit: "deliveries/s",
      detail: `${stats.distinct} in ${round(seconds, 2)} s`,
      ceiling: round(ceilingRate),
      ratio,
      target: "≥ 0.5×",
      met: ratio >= 0.5 && created.count === eventCount && check.distinct === expected,
      notes: `${subscriptions} subscriptions × ${created.count} events${!ctx.quick && eventCount < 5000 ? " (spec: 5,000)" : ""} (POST /imports, CARD_ISSUED); ${stats.requests - stats.distinct} duplicate requests; ceiling: undici keep-alive, concurrency ${CONCURRENCY}${ceiling.failed ? `, ${ceiling.failed} failed` : ""}`,
      data: { subscriptions, events: created.count, deliveries: stats.distinct, requests: stats.requests, seconds, postToFirstEventMs: created.firstAt! - posted, importSummary: summary, ceiling },
    };
  } finally {
    await receivers.reset().catch(() => undefined);
  }
}
