import fs from "node:fs";
import path from "node:path";
import { Queue, type Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUE_NAMES } from "../../jobs/queues.ts";
import { dbSnapshot } from "../helpers/db-snapshot.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub, tempDir } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

/** Jobs a writer of Redis (or a bug) could put in the hub's queues; none is the hub's own. */
describe("forged and malformed jobs, through real queues and a running worker", () => {
  let hub: TestHub;
  let receiver: TestReceiver;
  let partner: { secret: string; partnerId: string };
  let sub: { id: string; secret: string };
  let maintenance: Queue;
  let sequence: number;
  beforeAll(async () => {
    hub = await TestHub.start({}, undefined, { worker: true });
    receiver = await TestReceiver.start();
    partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    sub = await subscribe(hub, partner.secret, receiver.url, ["CARD_ISSUED"]);
    receiver.secrets = [sub.secret];
    await issue(hub, hub.key("ISSUER"), v2023(1));
    await receiver.waitFor(() => receiver.received.length === 1);
    await settled();
    sequence = receiver.received[0].event.data.sequence;
    maintenance = new Queue(QUEUE_NAMES.maintenance, { connection: hub.runtime.queues.connection, prefix: hub.config.queuePrefix });
  });
  afterAll(async () => {
    await maintenance.close();
    await receiver.close();
    await hub.close();
  });

  /** Every delivery attempt logged as finished (the receiver hears of one before the log does). */
  async function settled(): Promise<void> {
    const open = () => hub.services.db.$client.prepare("SELECT count(*) FROM webhook_deliveries WHERE status = 'PENDING'").pluck().get();
    await eventually(() => open() === 0, 10_000, "attempts finished");
  }

  let n = 0;
  async function run(queue: Queue, name: string, data: unknown): Promise<Job> {
    const added = await queue.add(name, data as never, { jobId: `forged-${++n}`, attempts: 3, backoff: { type: "fixed", delay: 10 } });
    let job: Job | undefined;
    await eventually(async () => {
      job = await queue.getJob(added.id!);
      return !!job && (job.finishedOn ?? 0) > 0 && (await job.getState()) !== "delayed";
    }, 10_000, `job ${added.id} settled`);
    return job!;
  }

  /** Failed at the first attempt, by its data, with a message that repeats none of it. */
  function expectRefused(job: Job, kind: string, secrets: string[] = []): void {
    expect(job.failedReason, JSON.stringify(job.data)).toMatch(new RegExp(`^invalid ${kind} job: `));
    expect(job.attemptsMade).toBe(1);
    for (const value of secrets) expect(job.failedReason).not.toContain(value);
  }

  it("refuses malformed deliver, fan-out, conformance and maintenance jobs: nothing sent, nothing written", async () => {
    const testTime = new Date().toISOString();
    const deliveries: unknown[] = [
      { subscriptionId: sub.id, sequence: String(sequence) },
      { subscriptionId: sub.id, sequence: sequence + 0.5 },
      { subscriptionId: sub.id, sequence: -sequence },
      { subscriptionId: sub.id, sequence },
      { subscriptionId: sub.id, sequence: null },
      { subscriptionId: sub.id, sequence: null, testEventId: `evt_${sequence + 1}`, testTime },
      { subscriptionId: sub.id, sequence: null, testEventId: "test_<script>", testTime },
      { subscriptionId: sub.id, sequence: null, testEventId: "test_AAAAAAAAAAAA", testTime: "yesterday" },
      { subscriptionId: `${sub.id}' OR 1=1 --`, sequence },
      { subscriptionId: sub.id, sequence, priorAttempts: -3 },
      { subscriptionId: sub.id, sequence, testEventId: "test_AAAAAAAAAAAA" },
      { subscriptionId: sub.id, sequence, admin: true },
      "deliver everything",
      null,
      [sub.id, sequence],
    ];
    // A plain re-delivery ({subscriptionId, sequence}) is well-formed: check it is the only one that goes out.
    const wellFormed = JSON.stringify({ subscriptionId: sub.id, sequence });
    const before = dbSnapshot(hub.services.db);
    const sent = receiver.attempts.size;
    for (const data of deliveries.filter((d) => JSON.stringify(d) !== wellFormed)) {
      expectRefused(await run(hub.runtime.queues.deliver.urgent, "deliver", data), "deliver", ["<script>", "OR 1=1"]);
    }
    for (const data of [{ sequence: String(sequence) }, { sequence: 0 }, { sequence: 2 ** 60 }, {}, { sequence, more: 1 }]) {
      expectRefused(await run(hub.runtime.queues.fanout.bulk, "fanout", data), "fanout");
    }
    for (const data of [{ runId: "run_AAAAAAAAAAAA" }, { runId: "../../etc/passwd" }, {}]) {
      expectRefused(await run(hub.runtime.queues.conformance, "probe", data), "conformance", ["passwd"]);
    }
    for (const [name, data] of [["cards.drop-all", {}], ["audit.purge", { retentionDays: 0 }]] as const) {
      expectRefused(await run(maintenance, name, data), "maintenance");
    }
    expect(receiver.attempts.size).toBe(sent);
    expect(dbSnapshot(hub.services.db)).toEqual(before);
  });

  it("delivers a forged test event only for an open request: not a made-up id, not one already delivered", async () => {
    const made = await run(hub.runtime.queues.deliver.urgent, "deliver", { subscriptionId: sub.id, sequence: null, testEventId: "test_AAAAAAAAAAAA", testTime: new Date().toISOString() });
    expectRefused(made, "deliver");
    const requested = await hub.gql(partner.secret, `mutation { sendTestEvent(subscriptionId: "${sub.id}") { eventId } }`);
    const eventId = requested.data.sendTestEvent.eventId as string;
    await receiver.waitFor(() => receiver.ids().has(eventId));
    await settled();
    const eventTime = (receiver.received.find((r) => r.id === eventId)!.event as unknown as { time: string }).time;
    const before = dbSnapshot(hub.services.db);
    const sent = receiver.attempts.size;
    const again = await run(hub.runtime.queues.deliver.urgent, "deliver", { subscriptionId: sub.id, sequence: null, testEventId: eventId, testTime: eventTime });
    expectRefused(again, "deliver");
    const otherTime = await run(hub.runtime.queues.deliver.urgent, "deliver", { subscriptionId: sub.id, sequence: null, testEventId: eventId, testTime: new Date(0).toISOString() });
    expectRefused(otherTime, "deliver");
    expect(receiver.attempts.size).toBe(sent);
    expect(receiver.attempts.get(eventId)).toBe(1);
    expect(dbSnapshot(hub.services.db)).toEqual(before);
  });

  it("still retries a requested test event that failed, until it is delivered", async () => {
    receiver.respond = ({ attempt }) => ({ status: attempt === 1 ? 503 : 204 });
    // Its own subscription: test events are spaced per subscription, and `sub` had one just now.
    const other = await subscribe(hub, partner.secret, receiver.url, ["CARD_ISSUED"]);
    receiver.secrets = [sub.secret, other.secret];
    try {
      const requested = await hub.gql(partner.secret, `mutation { sendTestEvent(subscriptionId: "${other.id}") { eventId } }`);
      const eventId = requested.data.sendTestEvent.eventId as string;
      await receiver.waitFor(() => receiver.ids().has(eventId));
      expect(receiver.attempts.get(eventId)).toBe(2);
      await settled();
    } finally {
      receiver.respond = () => ({ status: 204 });
    }
  });

  it("refuses an import job whose id is a path, leaving the file outside DATA_DIR in place", async () => {
    const victimDir = tempDir("fpr-hub-victim-");
    const victim = path.join(victimDir, "victim.ndjson");
    fs.writeFileSync(victim, '{"number":"not a card"}\n');
    const importsDir = path.join(hub.config.dataDir, "imports");
    const importId = path.relative(importsDir, path.join(victimDir, "victim"));
    expect(importId).toMatch(/^\.\.\//);
    const before = dbSnapshot(hub.services.db);
    const job = await run(hub.runtime.queues.imports, "import", { importId, format: "ndjson" });
    expectRefused(job, "import", ["victim", ".."]);
    expect(fs.existsSync(victim)).toBe(true);
    expect(fs.existsSync(path.join(victimDir, "victim.rejects.ndjson"))).toBe(false);
    expect(dbSnapshot(hub.services.db)).toEqual(before);
  });

  it("runs the scheduled upkeep jobs as before", async () => {
    await eventually(async () => {
      const done = await maintenance.getJobs(["completed"]);
      return ["cards.expire-sweep", "audit.purge"].every((name) => done.some((job) => job.name === name));
    }, 10_000, "both upkeep jobs completed");
    const failed = await maintenance.getJobs(["failed"]);
    expect(failed.filter((job) => !job.id?.startsWith("forged-"))).toEqual([]);
  });
});
