import path from "node:path";
import { Queue } from "bullmq";
import Database from "better-sqlite3";
import { Redis } from "ioredis";
import type { BenchContext } from "./context.ts";

const QUEUES = ["webhooks.fanout-urgent", "webhooks.fanout", "webhooks.deliver-urgent", "webhooks.deliver", "hub.maintenance"];

/**
 * Waits until a freshly started `fpr-hub start` is idle: its first expiry sweep and audit purge ran
 * (a register loaded with --no-events still holds VALID rows past validUntil, so the first sweep
 * emits CARD_EXPIRED for each), every event is handed over and no queue holds waiting work.
 * Returns the seconds it took and how many events the log holds (the register was loaded without).
 */
export async function waitUntilIdle(ctx: BenchContext, dataDir: string, prefix: string, timeoutMs: number): Promise<{ seconds: number; events: number }> {
  const started = performance.now();
  const connection = new Redis(ctx.redis.url, { maxRetriesPerRequest: 1 });
  const queues = QUEUES.map((name) => new Queue(name, { connection, prefix }));
  const db = new Database(path.join(dataDir, "fpr-hub.sqlite"), { readonly: true });
  try {
    const undispatched = db.prepare("SELECT count(*) AS n FROM events WHERE dispatched_at IS NULL");
    const total = db.prepare("SELECT count(*) AS n FROM events");
    let quietPolls = 0;
    for (;;) {
      const counts = await Promise.all(queues.map((q) => q.getJobCounts("active", "wait", "prioritized", "completed", "failed")));
      const busy = counts.reduce((sum, c) => sum + c.active + c.wait + c.prioritized, 0);
      const maintenanceDone = counts[4].completed + counts[4].failed >= 2;
      const pending = (undispatched.get() as { n: number }).n;
      quietPolls = busy === 0 && pending === 0 && maintenanceDone ? quietPolls + 1 : 0;
      if (quietPolls >= 3) break;
      if (performance.now() - started > timeoutMs) throw new Error(`hub not idle within ${timeoutMs} ms (${busy} jobs queued, ${pending} events not handed over)`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const events = (total.get() as { n: number }).n;
    ctx.log(`hub idle after ${((performance.now() - started) / 1000).toFixed(1)} s (${events} events meanwhile)`);
    return { seconds: (performance.now() - started) / 1000, events };
  } finally {
    db.close();
    await Promise.all(queues.map((q) => q.close()));
    connection.disconnect();
  }
}
