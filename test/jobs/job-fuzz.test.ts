import fc from "fast-check";
import { Job, Queue, UnrecoverableError, type Processor } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProcessors } from "../../jobs/processors.ts";
import { MAX_PRIOR_ATTEMPTS } from "../../jobs/job-data.ts";
import { QUEUE_NAMES, type QueueName as WorkerQueueName } from "../../jobs/queues.ts";
import { dbSnapshot } from "../helpers/db-snapshot.ts";
import { TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

/** Longest a refusal may take: it happens before any I/O. */
const BOUND_MS = 1_000;
const RUNS = 150;

/** Values of every JS kind, and strings that look almost right. */
const junk = fc.oneof(
  fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true }),
  fc.constantFrom("", "1", " 1", "1e3", "0x10", "-1", "NaN", "../../x", "..\\..\\x", "/etc/passwd", "sub_", "test_", "run_", "imp_", "evt_1", "null", "\u0000"),
  fc.constantFrom(0, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -0, 1e21, true, false, null, [], {}),
);

/** What each field may hold (the job layer's contract); a "bad" value is junk outside it. */
const ok = {
  subscriptionId: (v: unknown) => typeof v === "string" && /^sub_[A-Za-z0-9_-]{1,40}$/.test(v),
  sequence: (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0,
  testEventId: (v: unknown) => typeof v === "string" && /^test_[A-Za-z0-9_-]{12}$/.test(v),
  testTime: (v: unknown) => typeof v === "string" && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v,
  priorAttempts: (v: unknown) => v === undefined || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_PRIOR_ATTEMPTS),
  runId: (v: unknown) => typeof v === "string" && /^run_[A-Za-z0-9_-]{12}$/.test(v),
  importId: (v: unknown) => typeof v === "string" && /^imp_[A-Za-z0-9_-]{12}$/.test(v),
  format: (v: unknown) => v === "ndjson" || v === "csv",
  handoff: (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) >= 1),
};
const bad = (check: (v: unknown) => boolean) => junk.filter((v) => !check(v));
const present = junk.filter((v) => v !== undefined);
const KEEP = Symbol("keep");
const KNOWN = ["subscriptionId", "sequence", "testEventId", "testTime", "priorAttempts", "handoff", "runId", "importId", "format"];

/** A valid base with at least one field replaced by a bad value, or an unknown field added. */
function corrupted(valid: Record<string, unknown>, badValues: Record<string, fc.Arbitrary<unknown>>) {
  const replaced = fc.record(Object.fromEntries(Object.entries(badValues).map(([field, arb]) => [field, fc.option(arb, { nil: KEEP, freq: 2 })])));
  const extra = fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !KNOWN.includes(key)), fc.anything()), { nil: KEEP });
  return fc
    .tuple(replaced, extra)
    .filter(([fields, more]) => more !== KEEP || Object.values(fields).some((v) => v !== KEEP))
    .map(([fields, more]) => {
      const data: Record<string, unknown> = { ...valid };
      for (const [field, value] of Object.entries(fields)) if (value !== KEEP) data[field] = value;
      if (typeof more !== "symbol") Object.defineProperty(data, more[0], { value: more[1], enumerable: true, configurable: true, writable: true });
      return data;
    });
}

describe("job payload fuzz: every processor, as the worker builds it, over real SQLite and Redis", () => {
  let hub: TestHub;
  let receiver: TestReceiver;
  let processors: Record<WorkerQueueName, Processor>;
  let maintenance: Queue;
  let sub: { id: string; secret: string };
  let sequence: number;
  beforeAll(async () => {
    hub = await TestHub.start();
    receiver = await TestReceiver.start();
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    sub = await subscribe(hub, partner.secret, receiver.url, ["CARD_ISSUED"]);
    await issue(hub, hub.key("ISSUER"), v2023(7));
    sequence = (hub.services.db.$client.prepare("SELECT max(sequence) FROM events").pluck().get() as number) ?? 1;
    // The event's fan-out job is queued before the queues are counted.
    await hub.runtime.relay.drain();
    processors = createProcessors(hub.runtime).processors;
    maintenance = new Queue(QUEUE_NAMES.maintenance, { connection: hub.runtime.queues.connection, prefix: hub.config.queuePrefix });
  });
  afterAll(async () => {
    await maintenance.close();
    await receiver.close();
    await hub.close();
  });

  /** Real BullMQ jobs on the hub's real queues (not added: each is handed to its processor as a worker would). */
  function job(queue: Queue, name: string, data: unknown): Job {
    return new Job(queue, name, data as never, { attempts: 3 }, `fuzz-${Math.random().toString(36).slice(2)}`);
  }

  async function refusesUnrecoverably(queueName: WorkerQueueName, queue: Queue, name: string, data: unknown): Promise<void> {
    const changesBefore = hub.services.db.$client.prepare("SELECT total_changes()").pluck().get();
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      Promise.resolve()
        .then(() => processors[queueName](job(queue, name, data)))
        .then((value) => ({ value }), (error: unknown) => ({ error })),
      new Promise<{ timeout: true }>((resolve) => (timer = setTimeout(() => resolve({ timeout: true }), BOUND_MS))),
    ]);
    clearTimeout(timer);
    expect(outcome, queueName).toHaveProperty("error");
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/^invalid [a-z]+ job: [a-zA-Z ]+$/);
    expect(performance.now() - started).toBeLessThan(BOUND_MS);
    expect(hub.services.db.$client.prepare("SELECT total_changes()").pluck().get()).toBe(changesBefore);
  }

  it("refuses random and near-valid data on every queue: only UnrecoverableError, no write, no request, in bounded time", async () => {
    const { queues } = hub.runtime;
    const jobQueues = [...Object.values(queues.deliver), ...Object.values(queues.fanout), queues.imports, queues.conformance];
    const counts = async () => Promise.all(jobQueues.map((queue) => queue.count()));
    const queuedBefore = await counts();
    const before = dbSnapshot(hub.services.db);
    const deliverData = fc.oneof(
      junk,
      corrupted(
        { subscriptionId: sub.id, sequence },
        { subscriptionId: bad(ok.subscriptionId), sequence: bad(ok.sequence), testEventId: present, testTime: present, priorAttempts: bad(ok.priorAttempts) },
      ),
      // A ledger hand-off with one field wrong.
      corrupted(
        { subscriptionId: sub.id, sequence, handoff: 1 },
        { subscriptionId: bad(ok.subscriptionId), sequence: bad(ok.sequence), testEventId: present, testTime: present, handoff: bad(ok.handoff) },
      ),
      corrupted(
        { subscriptionId: sub.id, sequence: null, testEventId: "test_AAAAAAAAAAAA", testTime: new Date().toISOString() },
        { subscriptionId: bad(ok.subscriptionId), sequence: present.filter((v) => v !== null), testEventId: bad(ok.testEventId), testTime: bad(ok.testTime), priorAttempts: bad(ok.priorAttempts) },
      ),
      // Well-formed test events nobody requested.
      fc.record({ subscriptionId: fc.constant(sub.id), sequence: fc.constant(null), testEventId: fc.stringMatching(/^test_[A-Za-z0-9_-]{12}$/), testTime: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) }),
    );
    const cases = fc.oneof(
      fc.tuple(fc.constantFrom(QUEUE_NAMES.deliver.urgent, QUEUE_NAMES.deliver.bulk), deliverData),
      fc.tuple(fc.constantFrom(QUEUE_NAMES.fanout.urgent, QUEUE_NAMES.fanout.bulk), fc.oneof(junk, corrupted({ sequence }, { sequence: bad(ok.sequence) }))),
      fc.tuple(fc.constant(QUEUE_NAMES.conformance), fc.oneof(junk, corrupted({ runId: "run_AAAAAAAAAAAA" }, { runId: bad(ok.runId) }), fc.record({ runId: fc.stringMatching(/^run_[A-Za-z0-9_-]{12}$/) }))),
      fc.tuple(fc.constant(QUEUE_NAMES.imports), fc.oneof(junk, corrupted({ importId: "imp_AAAAAAAAAAAA", format: "ndjson" }, { importId: bad(ok.importId), format: bad(ok.format) }))),
    );
    const queueOf = (name: string): Queue =>
      ({
        [QUEUE_NAMES.deliver.urgent]: queues.deliver.urgent,
        [QUEUE_NAMES.deliver.bulk]: queues.deliver.bulk,
        [QUEUE_NAMES.fanout.urgent]: queues.fanout.urgent,
        [QUEUE_NAMES.fanout.bulk]: queues.fanout.bulk,
        [QUEUE_NAMES.conformance]: queues.conformance,
        [QUEUE_NAMES.imports]: queues.imports,
      })[name] as Queue;
    await fc.assert(
      fc.asyncProperty(cases, async ([queueName, data]) => {
        await refusesUnrecoverably(queueName, queueOf(queueName), queueName === QUEUE_NAMES.imports ? "import" : "job", data);
      }),
      { numRuns: RUNS * 4 },
    );
    const maintenanceCases = fc.oneof(
      fc.tuple(junk, fc.constant({})),
      fc.tuple(fc.string().filter((name) => name !== "cards.expire-sweep" && name !== "audit.purge"), junk),
      fc.tuple(fc.constantFrom("cards.expire-sweep", "audit.purge"), fc.dictionary(fc.string({ minLength: 1 }), junk, { minKeys: 1 })),
    );
    await fc.assert(
      fc.asyncProperty(maintenanceCases, async ([name, data]) => refusesUnrecoverably(QUEUE_NAMES.maintenance, maintenance, name as string, data)),
      { numRuns: RUNS },
    );
    expect(receiver.attempts.size).toBe(0);
    expect(dbSnapshot(hub.services.db)).toEqual(before);
    expect(await counts()).toEqual(queuedBefore);
  }, 120_000);
});
