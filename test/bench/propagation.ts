import path from "node:path";
import Database from "better-sqlite3";
import type { BenchContext, Register, Row } from "./lib/context.ts";
import { bullmqRoundTrips, percentile } from "./lib/bullmq-roundtrip.ts";
import { createKeys, gql, subscribe, webhookHub } from "./lib/hub.ts";
import { round } from "./lib/load.ts";
import { RECEIVERS, sharedReceivers } from "./lib/webhooks.ts";
import { lookupCards } from "./lookup.ts";

const PER_PARTNER = 25; // MAX_SUBSCRIPTIONS_PER_PARTNER
const now = () => performance.timeOrigin + performance.now();

/** `count` numbers whose latest instance is valid, spread over the register. */
function revocableNumbers(dataDir: string, count: number): string[] {
  const db = new Database(path.join(dataDir, "fpr-hub.sqlite"), { readonly: true });
  try {
    const total = (db.prepare("SELECT count(*) AS n FROM cards").get() as { n: number }).n;
    const rows = db
      .prepare(`SELECT c.number FROM cards c JOIN holders h ON h.id = c.holder_id
        WHERE c.state = 'VALID' AND c.valid_until > '2028-01-01' AND h.status = 'ACTIVE' AND c.rowid % ? = 0
          AND NOT EXISTS (SELECT 1 FROM cards d WHERE d.number = c.number AND d.issue_count > c.issue_count) LIMIT ?`)
      .all(Math.max(1, Math.floor(total / (count * 4))), count) as { number: string }[];
    return rows.map((row) => row.number);
  } finally {
    db.close();
  }
}

/** Which partner key each subscriber uses: the free places of existing partners first (25 each), then new partners. */
async function partnerSlots(ctx: BenchContext, register: Register, subscribers: number): Promise<string[]> {
  const used = () => {
    const db = new Database(path.join(register.dataDir, "fpr-hub.sqlite"), { readonly: true });
    try {
      const rows = db.prepare("SELECT partner_id AS id, count(*) AS n FROM webhook_subscriptions GROUP BY partner_id").all() as { id: string; n: number }[];
      return new Map(rows.map((row) => [row.id, row.n]));
    } finally {
      db.close();
    }
  };
  let keys = await createKeys(ctx, register);
  const counts = used();
  const free = keys.partnerIds.reduce((sum, id) => sum + PER_PARTNER - (counts.get(id) ?? 0), 0);
  if (free < subscribers) keys = await createKeys(ctx, register, keys.partnerIds.length + Math.ceil((subscribers - free) / PER_PARTNER));
  const slots: string[] = [];
  keys.partnerIds.forEach((id, i) => {
    for (let n = counts.get(id) ?? 0; n < PER_PARTNER; n++) slots.push(keys.partners[i]);
  });
  return slots.slice(0, subscribers);
}

/** revokeCard → the webhook at each subscriber, one revocation at a time on an idle hub. */
export async function propagation(ctx: BenchContext): Promise<Row> {
  const subscribers = ctx.quick ? 20 : 100;
  const revocations = ctx.quick ? 10 : 30;
  await ctx.releaseShared(["webhook-hub"]);
  const [{ register, hub }, receivers] = await Promise.all([webhookHub(ctx, () => ctx.register(lookupCards(ctx))), sharedReceivers(ctx, RECEIVERS(ctx))]);
  const slots = await partnerSlots(ctx, register, subscribers);
  const keys = register.keys!;
  const numbers = revocableNumbers(register.dataDir, revocations + 1);
  if (numbers.length < revocations + 1) throw new Error(`only ${numbers.length} revocable cards found`);
  try {
    for (const [i, url] of receivers.urls.slice(0, subscribers).entries()) await subscribe(hub.graphql, slots[i], url, ["CARD_REVOKED"]);
    await new Promise((resolve) => setTimeout(resolve, 500)); // idle
    const mutation = "mutation($n: String!) { revokeCard(number: $n, reason: \"benchmark\") { state } }";
    ctx.log("propagation: revoking");
    const latencies: number[] = [];
    const perRevocationP99: number[] = [];
    const firstArrivals: number[] = [];
    for (const [i, number] of numbers.entries()) {
      const sent = now();
      await gql(hub.graphql, keys.issuer, mutation, { n: number });
      const deadline = Date.now() + 10_000;
      let arrivals: [number, number][] = [];
      while ((arrivals = await receivers.arrivals(number)).length < subscribers) {
        if (Date.now() > deadline) throw new Error(`revocation ${i}: ${arrivals.length}/${subscribers} webhooks within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const times = arrivals.map(([, at]) => at - sent);
      if (i > 0) {
        latencies.push(...times); // the first revocation only warms up the path
        perRevocationP99.push(percentile(times, 99));
        firstArrivals.push(Math.min(...times));
      }
      await new Promise((resolve) => setTimeout(resolve, 100)); // idle again
    }
    await ctx.releaseShared(); // the ceiling runs on an idle machine too
    ctx.log("propagation: BullMQ round trips");
    const trips = await bullmqRoundTrips(ctx.redis.url, ctx.prefix("roundtrip"), 200);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const ceiling = percentile(trips, 99);
    const ratio = p99 / ceiling;
    return {
      name: "propagation",
      value: round(p99, 1),
      unit: "ms",
      detail: `p99; p50 ${round(p50, 1)} ms; first webhook of each revocation p50 ${round(percentile(firstArrivals, 50), 1)} ms`,
      ceiling: round(ceiling, 2),
      ceilingDetail: `BullMQ no-op round trip p99; p50 ${round(percentile(trips, 50), 2)} ms`,
      ratio,
      target: "p99 ≤ 3× ceiling and ≤ 250 ms",
      met: ratio <= 3 && p99 <= 250,
      notes: `${subscribers} subscribers (${new Set(slots).size} partners) × ${revocations} revocations (+1 warm-up), sequential; ratio = p99 / ceiling (lower is better)`,
      data: { subscribers, revocations, samples: latencies.length, p50, p99, max: Math.max(...latencies), perRevocationP99, firstArrivals, ceiling: { p50: percentile(trips, 50), p99: ceiling, max: Math.max(...trips), samples: trips.length } },
    };
  } finally {
    await receivers.reset().catch(() => undefined);
  }
}
