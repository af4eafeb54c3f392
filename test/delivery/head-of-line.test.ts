import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, TestReceiver, type Responder } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

/**
 * No head-of-line blocking (issue 11): a slow, hanging or failing endpoint delays only itself.
 *
 * Two hubs with the same settings receive the same stream of events (card issues, every fifth
 * event a revocation, at a steady rate): the baseline hub delivers to healthy receivers only, the
 * other to the same number of healthy receivers plus one bad one. Each healthy receiver's
 * event-to-2xx latency (the event's `time`, its occurredAt, to the moment the receiver answered
 * 2xx) is measured here, and the p99 beside the bad receiver must stay within 2× the baseline's:
 * a ratio, never an absolute time.
 *
 * The two runs go side by side, each event committed to both hubs at the same moment, rather than
 * one after the other: on a shared 2-core machine the p99 of identical runs made a minute apart
 * ranged from 19 to 174 ms (event-loop stalls of up to 400 ms from other processes), so runs made
 * at different times compare the machine's moods, not the designs. Side by side, a stall delays
 * both, and what differs is what the bad receiver does to its own hub: its queues, its slots, its
 * relay, its breaker.
 */

const EVENTS = 200;
/** One event every 50 ms: 20 events a second, steady. */
const INTERVAL_MS = 50;
/** A short run first, not measured: the first hubs in a process pay for loading and compiling. */
const WARM_UP_EVENTS = 40;
const HEALTHY = 3;
const TIMEOUT_MS = 3000;
/** The same hub settings on both sides. */
const SETTINGS = { WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS) };
/**
 * The baseline p99 is floored at this: a quiet run's p99 can be a few milliseconds, and a ratio
 * against that would measure scheduler noise (one busy core, one GC pause doubles it), not
 * head-of-line blocking, which costs hundreds of milliseconds to seconds (issue 11: p99 151 s).
 */
const BASELINE_FLOOR_MS = 20;
const TYPES = ["CARD_ISSUED", "CARD_REVOKED"];

interface Bad {
  name: string;
  respond: Responder;
  /** Whether it answers 2xx at all, so that it must end up with every event too. */
  answers: boolean;
}

const BAD: Bad[] = [
  { name: "answers after 2 s", respond: () => ({ status: 204, delayMs: 2000 }), answers: true },
  // Answers only after the hub's attempt timeout, so every attempt times out (and its late 504 is no receipt).
  { name: "hangs until the attempt timeout", respond: () => ({ status: 504, delayMs: TIMEOUT_MS + 1000 }), answers: false },
  { name: "fails with 503", respond: () => ({ status: 503 }), answers: false },
];

interface Side {
  hub: TestHub;
  healthy: TestReceiver[];
  bad: TestReceiver | null;
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/** Event-to-2xx of each event a receiver accepted (its first receipt), by event id. */
function latencies(receiver: TestReceiver): Map<string, number> {
  const first = new Map<string, number>();
  for (const r of receiver.received) if (!first.has(r.id)) first.set(r.id, r.receivedAt - Date.parse(r.event.time));
  return first;
}

async function openSide(bad: Bad | null, cleanups: (() => Promise<void>)[]): Promise<Side> {
  const hub = await TestHub.start(SETTINGS, undefined, { worker: true });
  cleanups.push(() => hub.close());
  const receiver = async (respond?: Responder): Promise<TestReceiver> => {
    const r = await TestReceiver.start();
    cleanups.push(() => r.close());
    if (respond) r.respond = respond;
    r.secrets = [(await subscribe(hub, hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret, r.url, TYPES)).secret];
    return r;
  };
  const healthy: TestReceiver[] = [];
  for (let i = 0; i < HEALTHY; i++) healthy.push(await receiver());
  return { hub, healthy, bad: bad ? await receiver(bad.respond) : null };
}

/** Commits event i to every side at start + i × interval; every fifth event revokes an earlier card. */
async function commitStream(sides: Side[], events: number): Promise<void> {
  const issuers = sides.map((side) => side.hub.key("ISSUER"));
  const start = Date.now();
  const issued: string[] = [];
  for (let i = 0; i < events; i++) {
    const wait = start + i * INTERVAL_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const revoke = i % 5 === 4 ? issued.shift()! : null;
    const answers = await Promise.all(
      sides.map((side, s) =>
        revoke
          ? side.hub.gql(issuers[s]!, `mutation ($n: String!) { revokeCard(number: $n, reason: "fraud") { state } }`, { n: revoke })
          : side.hub.gql(issuers[s]!, `mutation ($input: IssueCardInput!) { issueCard(input: $input) { number } }`, {
              input: { number: v2023(i), validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "STREAM, TEST" },
            }),
      ),
    );
    for (const answer of answers) if (answer.errors) throw new Error(JSON.stringify(answer.errors));
    if (!revoke) issued.push(v2023(i));
  }
}

function committed(side: Side): Set<string> {
  return new Set((side.hub.services.db.$client.prepare("SELECT sequence FROM events").all() as { sequence: number }[]).map((e) => `evt_${e.sequence}`));
}

const hasAll = (receiver: TestReceiver, ids: Set<string>): boolean => [...ids].every((id) => receiver.ids().has(id));

/** Every committed event reached every healthy receiver, verified; the p99 over them all. */
async function healthyP99(side: Side, events: number): Promise<{ p99: number; perReceiver: number[]; slowest: string[] }> {
  const ids = committed(side);
  expect(ids.size).toBe(events);
  await eventually(() => side.healthy.every((r) => hasAll(r, ids)), 60_000, "every healthy receiver having every event");
  for (const r of side.healthy) {
    expect(r.ids()).toEqual(ids);
    expect(r.received.filter((x) => !x.verified)).toEqual([]);
  }
  const each = side.healthy.map(latencies);
  const all = each.flatMap((l) => [...l.values()]);
  const worst = new Map<string, number>();
  for (const l of each) for (const [id, ms] of l) worst.set(id, Math.max(worst.get(id) ?? 0, ms));
  const slowest = [...worst].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([id, ms]) => `${id} ${ms} ms`);
  return { p99: percentile(all, 0.99), perReceiver: each.map((l) => percentile([...l.values()], 0.99)), slowest };
}

async function closeAll(cleanups: (() => Promise<void>)[]): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

describe("no head-of-line blocking", () => {
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const warm = await openSide(null, cleanups);
    await commitStream([warm], WARM_UP_EVENTS);
    await healthyP99(warm, WARM_UP_EVENTS);
    await closeAll(cleanups);
  }, 60_000);

  afterAll(() => closeAll(cleanups));

  for (const bad of BAD) {
    it(`keeps healthy receivers' p99 within 2x of the baseline when one receiver ${bad.name}`, async () => {
      const baseline = await openSide(null, cleanups);
      const withBad = await openSide(bad, cleanups);
      await commitStream([baseline, withBad], EVENTS);
      const base = await healthyP99(baseline, EVENTS);
      const beside = await healthyP99(withBad, EVENTS);
      if (bad.answers) {
        const ids = committed(withBad);
        await eventually(() => hasAll(withBad.bad!, ids), 120_000, "the slow receiver having every event");
        expect(withBad.bad!.ids()).toEqual(ids);
      }
      const ratio = beside.p99 / Math.max(base.p99, BASELINE_FLOOR_MS);
      console.log(
        `head-of-line [${bad.name}]: healthy p99 ${base.p99} ms without it (per receiver ${base.perReceiver.join("/")}), ` +
          `${beside.p99} ms beside it (per receiver ${beside.perReceiver.join("/")}), ratio ${ratio.toFixed(2)}`,
      );
      expect(ratio, `slowest beside the bad receiver: ${beside.slowest.join(", ")}; without: ${base.slowest.join(", ")}`).toBeLessThanOrEqual(2);
      await closeAll(cleanups);
    }, 240_000);
  }
});
