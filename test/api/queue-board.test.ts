import { createRequire } from "node:module";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUE_NAMES } from "../../jobs/queues.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { eventually } from "../helpers/receiver.ts";

/** Every route bull-board serves, as the installed version declares them. */
const { appRoutes } = createRequire(import.meta.url)("@bull-board/api/dist/routes.js") as {
  appRoutes: { api: { method: string; route: string }[] };
};

/** Everything under the hub's queue prefix: type and full content of each key. */
async function snapshot(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const keys = (await redis.keys(`${prefix}:*`)).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === "string") out[key] = await redis.get(key);
    else if (type === "hash") out[key] = await redis.hgetall(key);
    else if (type === "list") out[key] = await redis.lrange(key, 0, -1);
    else if (type === "set") out[key] = (await redis.smembers(key)).sort();
    else if (type === "zset") out[key] = await redis.zrange(key, 0, -1, "WITHSCORES");
    else if (type === "stream") out[key] = await redis.xrange(key, "-", "+");
    else out[key] = type;
  }
  return out;
}

/** A body that satisfies every mutating handler's schema (add job, update data, rate limit, …). */
const BODY = JSON.stringify({
  name: "deliver",
  data: { subscriptionId: "sub_forged", sequence: 1 },
  options: {},
  concurrency: 1,
  max: 1,
  duration: 1000,
  delay: 1000,
  priority: 1,
  every: 1000,
  force: true,
});

describe("the queue board is read-only", () => {
  let hub: TestHub;
  let redis: Redis;
  let admin: string;
  const ids = { waiting: "", delayed: "", failed: "" };
  beforeAll(async () => {
    hub = await TestHub.start();
    admin = hub.key("ADMIN");
    redis = new Redis(hub.runtime.redis.url);
    const { queues, config } = hub.runtime;
    ids.waiting = (await queues.deliver.bulk.add("deliver", { subscriptionId: "sub_x", sequence: 1 }, { jobId: "waiting-1" })).id!;
    ids.delayed = (await queues.deliver.bulk.add("deliver", { subscriptionId: "sub_x", sequence: 2 }, { jobId: "delayed-1", delay: 3_600_000 })).id!;
    ids.failed = (await queues.conformance.add("probe", { runId: "run_failing" }, { jobId: "failed-1" })).id!;
    // A worker of this test only (the hub's worker is not running) fails the probe job once.
    const failer = new Worker(QUEUE_NAMES.conformance, async () => { throw new Error("fails on purpose"); }, { connection: new Redis(hub.runtime.redis.url, { maxRetriesPerRequest: null }), prefix: config.queuePrefix });
    await eventually(async () => (await queues.conformance.getJobState(ids.failed)) === "failed", 10_000, "job failed");
    await failer.close();
    await failer.disconnect();
  });
  afterAll(async () => {
    redis.disconnect();
    await hub.close();
  });

  const url = (path: string) => `${hub.api.url}/admin/queues${path}`;
  const auth = () => ({ authorization: `Bearer ${admin}` });

  /** The route with its parameters filled in with real queues, jobs and statuses. */
  function concrete(route: string): string[] {
    const statuses = route.includes(":queueStatus") ? ["failed", "completed", "delayed", "waiting"] : [""];
    return statuses.flatMap((status) =>
      [QUEUE_NAMES.deliver.bulk, QUEUE_NAMES.conformance].map((queue) =>
        route
          .replace(":queueName", encodeURIComponent(queue))
          .replace(":jobId", queue === QUEUE_NAMES.conformance ? ids.failed : ids.delayed)
          .replace(":queueStatus", status)
          .replace(":schedulerId", "cards.expire-sweep"),
      ),
    );
  }

  it("refuses every mutating bull-board route to an ADMIN key and changes nothing in Redis", async () => {
    const mutating = appRoutes.api.filter((route) => route.method !== "get");
    expect(mutating.length).toBeGreaterThanOrEqual(20);
    const before = await snapshot(redis, hub.config.queuePrefix);
    for (const route of mutating) {
      for (const path of concrete(route.route)) {
        // The declared method first (the one bull-board would act on), then every other one.
        const declared = route.method.toUpperCase();
        for (const method of [declared, ...["POST", "PUT", "PATCH", "DELETE"].filter((m) => m !== declared)]) {
          const response = await fetch(url(path), { method, headers: { ...auth(), "content-type": "application/json" }, body: BODY });
          await response.arrayBuffer();
          expect([403, 405], `${method} ${path}`).toContain(response.status);
        }
      }
    }
    expect(await snapshot(redis, hub.config.queuePrefix)).toEqual(before);
    expect(await hub.runtime.queues.deliver.bulk.getJobState(ids.delayed)).toBe("delayed");
    expect(await hub.runtime.queues.conformance.getJobState(ids.failed)).toBe("failed");
    expect(await hub.runtime.queues.deliver.bulk.isPaused()).toBe(false);
  });

  it("says every queue is read-only, with no retries, and still serves its pages to GET and HEAD", async () => {
    const api = await fetch(url("/api/queues"), { headers: auth() });
    expect(api.status).toBe(200);
    const queues = ((await api.json()) as { queues: { name: string; readOnlyMode: boolean; allowRetries: boolean; allowCompletedRetries: boolean }[] }).queues;
    expect(queues.length).toBeGreaterThanOrEqual(6);
    for (const queue of queues) expect(queue, queue.name).toMatchObject({ readOnlyMode: true, allowRetries: false, allowCompletedRetries: false });
    for (const path of ["", "/", `/queue/${QUEUE_NAMES.deliver.bulk}`, `/queue/${QUEUE_NAMES.conformance}/${ids.failed}`]) {
      const page = await fetch(url(path), { headers: auth() });
      expect(page.status, path).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
    }
    const job = await fetch(url(`/api/queues/${QUEUE_NAMES.conformance}/${ids.failed}`), { headers: auth() });
    expect(job.status).toBe(200);
    expect(((await job.json()) as { status: string }).status).toBe("failed");
    const head = await fetch(url("/api/queues"), { method: "HEAD", headers: auth() });
    expect(head.status).toBe(200);
    const html = await (await fetch(url("/"), { headers: auth() })).text();
    const script = /src="[^"]*(static\/js\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(url(`/${script}`), { headers: auth() });
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
  });

  it("answers a mutating method 405 with Allow: GET, HEAD, and still 401 without a key", async () => {
    const refused = await fetch(url(`/api/queues/${QUEUE_NAMES.deliver.bulk}/${ids.delayed}/promote`), { method: "PUT", headers: auth() });
    expect(refused.status).toBe(405);
    expect(refused.headers.get("allow")).toBe("GET, HEAD");
    expect((await fetch(url("/api/queues/pause"), { method: "PUT" })).status).toBe(401);
  });
});
