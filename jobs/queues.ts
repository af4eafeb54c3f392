import { Queue, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";

import type { Lane } from "../src/events/lanes.ts";
import { attemptsAllowed, DELIVERY_BACKOFF, FANOUT_RETRIES, RUN_ONCE, testEventJobAttempts } from "../src/webhooks/retry-policy.ts";

export type { Lane };

export const QUEUE_NAMES = {
  fanout: { urgent: "webhooks.fanout-urgent", bulk: "webhooks.fanout" },
  deliver: { urgent: "webhooks.deliver-urgent", bulk: "webhooks.deliver" },
  /** Conformance probes of partners' endpoints. */
  conformance: "coverage.conformance",
  /** Bulk imports uploaded over HTTP, one at a time. */
  imports: "imports.run",
  /** Scheduled upkeep: the expiry sweep and the audit purge. */
  maintenance: "hub.maintenance",
} as const;

/**
 * The queue registry: every queue the hub runs, in the order the worker, close(), /metrics and
 * the queue board take them. A queue added here is run, closed, counted and shown everywhere.
 */
export const HUB_QUEUES = [
  QUEUE_NAMES.fanout.urgent,
  QUEUE_NAMES.fanout.bulk,
  QUEUE_NAMES.deliver.urgent,
  QUEUE_NAMES.deliver.bulk,
  QUEUE_NAMES.imports,
  QUEUE_NAMES.conformance,
  QUEUE_NAMES.maintenance,
] as const;

export type QueueName = (typeof HUB_QUEUES)[number];

/** Checked again by the processor (jobs/import-processor.ts): ids by pattern, the key still an ISSUER's. */
export interface ImportJob {
  importId: string;
  format: "ndjson" | "csv";
  /** The ISSUER key that uploaded the file: its quota, and the authority the worker re-checks. */
  issuerKeyId: string;
}

export interface ConformanceJob {
  runId: string;
}

export interface FanoutJob {
  sequence: number;
}

/** Jobs carry ids only; the processor checks them (job-data.ts), then re-reads the subscription and the event. */
export interface DeliverJob {
  subscriptionId: string;
  /** The event's sequence, or null for a test event. */
  sequence: number | null;
  testEventId?: string;
  testTime?: string;
  /** Test events only: attempts made before this job. (Event deliveries count theirs in the ledger.) */
  priorAttempts?: number;
  /** Event deliveries: the ledger hand-off this job carries (src/webhooks/delivery-ledger.store.ts). */
  handoff?: number;
}

/** A ledger row as a job carries it. */
export interface LedgerRef {
  subscriptionId: string;
  sequence: number;
  handoff: number;
}

/**
 * Job ids carry the database's identity (src/events/database-identity.ts), so a new or restored
 * database never meets a job its predecessor left. Hand-off 0 is the event's fan-out job.
 */
export function ledgerJobId(databaseId: string, row: LedgerRef): string {
  return row.handoff === 0 ? `${databaseId}.fan.${row.sequence}` : `${databaseId}.dlv.${row.subscriptionId}.${row.sequence}.${row.handoff}`;
}

/** Job states in which the job will still run (or is running). */
const LIVE_STATES = new Set(["waiting", "delayed", "active", "prioritized", "waiting-children"]);

const KEEP = { removeOnComplete: { age: 3600, count: 10_000 }, removeOnFail: { age: 7 * 86_400, count: 100_000 } };

/**
 * The options a queue's jobs start from. The maintenance queue keeps BullMQ's own (every finished
 * run kept): its schedulers' runs take the queue's defaults.
 */
const defaultJobOptionsOf = (name: QueueName): JobsOptions | undefined => (name === QUEUE_NAMES.maintenance ? undefined : KEEP);

/**
 * Opens one queue of the registry with its options. BullMQ checks the server when a queue is
 * created; if the connection closes first (a quick shutdown), that check fails with no one
 * listening, so the check's failure is dropped here (commands fail on their own promises).
 */
export function openQueue<T = unknown>(name: QueueName, connection: Redis, prefix: string, onError: (error: Error) => void = () => undefined): Queue<T> {
  const queue = new Queue<T>(name, { connection, prefix, defaultJobOptions: defaultJobOptionsOf(name) });
  queue.on("error", onError);
  queue.waitUntilReady().catch(() => undefined);
  return queue;
}

/** For producers: commands fail at once when Redis is down (the outbox keeps what was not handed over). */
export function producerConnection(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: false });
}

/** For workers: BullMQ requires maxRetriesPerRequest null on blocking connections. */
export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

export class HubQueues {
  readonly fanout: Record<Lane, Queue<FanoutJob>>;
  readonly deliver: Record<Lane, Queue<DeliverJob>>;
  readonly imports: Queue<ImportJob>;
  readonly conformance: Queue<ConformanceJob>;
  /** Read here (counts, the board); the worker keeps the schedules on its own connection (jobs/worker.ts). */
  readonly maintenance: Queue;
  /** Every queue of the registry, in its order: what close(), /metrics and the queue board read. */
  readonly all: readonly Queue[];

  constructor(
    readonly connection: Redis,
    readonly prefix: string,
    private readonly deliverOptions: JobsOptions,
  ) {
    // Errors are dropped: a failed add rejects its own promise, and the outbox keeps the event.
    const byName = new Map(HUB_QUEUES.map((name) => [name, openQueue(name, connection, prefix)]));
    const queue = <T>(name: QueueName) => byName.get(name) as Queue<T>;
    this.fanout = { urgent: queue(QUEUE_NAMES.fanout.urgent), bulk: queue(QUEUE_NAMES.fanout.bulk) };
    this.deliver = { urgent: queue(QUEUE_NAMES.deliver.urgent), bulk: queue(QUEUE_NAMES.deliver.bulk) };
    this.imports = queue(QUEUE_NAMES.imports);
    this.conformance = queue(QUEUE_NAMES.conformance);
    this.maintenance = queue(QUEUE_NAMES.maintenance);
    this.all = [...byName.values()];
  }

  async addConformanceProbe(runId: string): Promise<void> {
    await this.conformance.add("probe", { runId }, { jobId: runId, ...RUN_ONCE });
  }

  /** Queues an uploaded file for import; the job id is the import id, so its state can be read back. */
  async addImport(job: ImportJob): Promise<void> {
    await this.imports.add("import", job, { jobId: job.importId, ...RUN_ONCE, stackTraceLimit: 0, removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 7 * 86_400 } });
  }

  /**
   * Hands ledger rows to workers: an event's first attempts as one fan-out job, later ones as a
   * delivery job each (after `delay`). Ids derive from the row's hand-off, so handing one over
   * twice adds nothing.
   */
  async addLedgerJobs(databaseId: string, lane: Lane, rows: readonly (LedgerRef & { delay: number })[]): Promise<void> {
    const fanouts = new Map<string, { name: string; data: FanoutJob; opts: JobsOptions }>();
    const deliveries: { name: string; data: DeliverJob; opts: JobsOptions }[] = [];
    for (const row of rows) {
      const jobId = ledgerJobId(databaseId, row);
      if (row.handoff === 0) fanouts.set(jobId, { name: "fanout", data: { sequence: row.sequence }, opts: { jobId, ...FANOUT_RETRIES } });
      else {
        const data = { subscriptionId: row.subscriptionId, sequence: row.sequence, handoff: row.handoff };
        deliveries.push({ name: "deliver", data, opts: { jobId, ...RUN_ONCE, delay: row.delay > 0 ? row.delay : undefined } });
      }
    }
    if (fanouts.size > 0) await this.fanout[lane].addBulk([...fanouts.values()]);
    if (deliveries.length > 0) await this.deliver[lane].addBulk(deliveries);
  }

  /**
   * Whether the job carrying a ledger row is still in Redis, to run or running: its data is there
   * (an evicting Redis can drop a job's hash and leave its id in a list) and its state is live.
   */
  async carries(databaseId: string, lane: Lane, row: LedgerRef): Promise<boolean> {
    const queue = row.handoff === 0 ? this.fanout[lane] : this.deliver[lane];
    const id = ledgerJobId(databaseId, row);
    const [exists, state] = await Promise.all([this.connection.exists(`${this.prefix}:${queue.name}:${id}`), queue.getJobState(id)]);
    return exists === 1 && LIVE_STATES.has(state);
  }

  /** Test-event delivery jobs; a job whose data counts `priorAttempts` gets that many fewer attempts, after `delay`. */
  async addDeliveries(lane: Lane, jobs: readonly { data: DeliverJob; jobId: string; delay?: number }[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.deliver[lane].addBulk(
      jobs.map((job) => {
        const attempts = testEventJobAttempts(this.deliverOptions.attempts ?? 1, job.data.priorAttempts ?? 0);
        return { name: "deliver", data: job.data, opts: { ...this.deliverOptions, attempts, jobId: job.jobId, delay: job.delay } };
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((q) => q.close()));
  }
}

/** Test event job options for a retry schedule (retry-policy.ts): retried by the worker's backoff strategy. */
export function deliverJobOptions(retryScheduleMs: readonly number[]): JobsOptions {
  return { attempts: attemptsAllowed(retryScheduleMs), backoff: { type: DELIVERY_BACKOFF } };
}
