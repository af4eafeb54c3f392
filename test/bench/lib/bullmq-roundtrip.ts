import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";

/** Sequential no-op BullMQ round trips (Queue.add → a Worker runs the job) on `redisUrl`; ms each. */
export async function bullmqRoundTrips(redisUrl: string, prefix: string, count: number, warmUp = 20): Promise<number[]> {
  const producer = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const consumer = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue("bench.noop", { connection: producer, prefix, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
  let arrived: ((at: number) => void) | null = null;
  const worker = new Worker(
    "bench.noop",
    async () => {
      arrived?.(performance.now());
    },
    { connection: consumer, prefix, concurrency: 1 },
  );
  try {
    await worker.waitUntilReady();
    const times: number[] = [];
    for (let i = 0; i < warmUp + count; i++) {
      const done = new Promise<number>((resolve) => (arrived = resolve));
      const started = performance.now();
      await queue.add("noop", { i });
      const at = await done;
      if (i >= warmUp) times.push(at - started);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return times;
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    producer.disconnect();
    consumer.disconnect();
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
