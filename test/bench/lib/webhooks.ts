import path from "node:path";
import { Webhook } from "standardwebhooks";
import { Agent, request } from "undici";
import type { BenchContext } from "./context.ts";
import { ROOT, startChild } from "./proc.ts";

interface ReceiverStats {
  requests: number;
  distinct: number;
  perReceiver: number[];
  firstAt: number;
  lastAt: number;
}

export interface Receivers {
  urls: string[];
  stats(): Promise<ReceiverStats>;
  bodies(): Promise<Record<string, string>>;
  /** [receiver index, epoch ms] of each first arrival of an event about `subject` (a card number). */
  arrivals(subject: string): Promise<[number, number][]>;
  reset(): Promise<void>;
  /** Polls until `done(stats)` holds; throws after `timeoutMs` with the last stats. */
  waitFor(done: (stats: ReceiverStats) => boolean, timeoutMs: number, everyMs?: number): Promise<ReceiverStats>;
  alive(): boolean;
  stop(): Promise<void>;
}

/** Receivers started for the webhook benchmarks: enough for propagation's subscribers. */
export const RECEIVERS = (ctx: BenchContext) => (ctx.quick ? 20 : 100);

/** At least `count` loopback receivers in one child process, shared by the webhook benchmarks (reset first). */
export async function sharedReceivers(ctx: BenchContext, count: number): Promise<Receivers> {
  const receivers = await ctx.shared(`receivers:${count}`, () => startReceivers(ctx, count), (r) => r.alive(), (r) => r.stop(), true);
  await receivers.reset();
  return receivers;
}

/** `count` loopback receivers in one child process (lib/receivers-server.ts). */
async function startReceivers(ctx: BenchContext, count: number): Promise<Receivers> {
  const script = path.join(ROOT, "test/bench/lib/receivers-server.ts");
  const child = startChild("node", [script], { RECEIVERS: String(count) }, { nodeArgs: ["--import", "tsx"] });
  ctx.defer(() => child.stop());
  const match = await child.waitForLine(/receivers (\{.*\})\n/, 20_000);
  const { control, urls } = JSON.parse(match[1]) as { control: string; urls: string[] };
  const get = async <T>(p: string): Promise<T> => (await (await fetch(`${control}${p}`)).json()) as T;
  const receivers: Receivers = {
    urls,
    stats: () => get<ReceiverStats>("/stats"),
    bodies: () => get<Record<string, string>>("/bodies"),
    arrivals: (subject) => get<[number, number][]>(`/arrivals?subject=${encodeURIComponent(subject)}`),
    reset: async () => void (await get("/reset")),
    async waitFor(done, timeoutMs, everyMs = 50) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const stats = await receivers.stats();
        if (done(stats)) return stats;
        if (Date.now() > deadline) throw new Error(`receivers: not done within ${timeoutMs} ms (${stats.distinct} distinct deliveries)`);
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    },
    alive: () => child.process.exitCode === null && child.process.signalCode === null,
    stop: () => child.stop(),
  };
  return receivers;
}

/**
 * The fan-out ceiling: every (target, body) pair as a Standard Webhooks signed POST straight to the
 * receivers with undici (keep-alive), `concurrency` in flight, no queue.
 * Returns the seconds from the first send to the last answer.
 */
export async function sendSigned(targets: { url: string; secret: string }[], bodies: [string, string][], concurrency: number): Promise<{ seconds: number; sent: number; failed: number }> {
  const agent = new Agent({ connections: 64 });
  const signers = targets.map((t) => ({ url: new URL(t.url), webhook: new Webhook(t.secret) }));
  const total = targets.length * bodies.length;
  let next = 0;
  let failed = 0;
  const post = async (index: number) => {
    const signer = signers[index % signers.length];
    const [id, body] = bodies[Math.floor(index / signers.length)];
    const timestamp = new Date();
    const headers = {
      "content-type": "application/cloudevents+json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
      "webhook-signature": signer.webhook.sign(id, timestamp, body),
    };
    try {
      const response = await request(signer.url, { method: "POST", headers, body, dispatcher: agent });
      if (response.statusCode < 200 || response.statusCode >= 300) failed += 1;
      await response.body.dump();
    } catch {
      failed += 1;
    }
  };
  const started = performance.now();
  const lane = async () => {
    while (next < total) await post(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return { seconds, sent: total, failed };
}
