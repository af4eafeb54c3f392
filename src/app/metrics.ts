import type http from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { HubQueues } from "../../jobs/queues.ts";
import type { StorageHealth } from "../db/storage-health.ts";
import { countUndispatched } from "../events/event-log.store.ts";
import type { RouteHandler } from "../http/respond.ts";
import type { AuditEntry } from "../partners/audit-log.ts";
import type { HubServices } from "./services.ts";

/** What the scrape-time gauges read (the runtime is one). */
export interface MetricSources {
  services: Pick<HubServices, "db" | "ledger" | "audit" | "partners" | "coverage">;
  /** Every queue of the registry (jobs/queues.ts). */
  queues: Pick<HubQueues, "all">;
  storage: Pick<StorageHealth, "freeBytes">;
  now: () => Date;
}

/**
 * Prometheus metrics. Counters and the latency histogram are kept by the process doing the work
 * (`fpr-hub start` runs api and worker in one process, so /metrics shows both); backlog, queue
 * depth and coverage gauges are read from the database and Redis at scrape time.
 */
export class HubMetrics {
  readonly registry = new Registry();
  readonly checks = new Counter({ name: "fpr_hub_card_checks_total", help: "Card checks by version and result.", labelNames: ["version", "result"], registers: [this.registry] });
  readonly verifications = new Counter({ name: "fpr_hub_verifications_total", help: "Holder verifications by result.", labelNames: ["result"], registers: [this.registry] });
  readonly deliveries = new Counter({ name: "fpr_hub_webhook_deliveries_total", help: "Webhook delivery attempts by outcome.", labelNames: ["outcome"], registers: [this.registry] });
  readonly deliveryLatency = new Histogram({
    name: "fpr_hub_webhook_delivery_latency_seconds",
    help: "Time from an event to its 2xx webhook delivery.",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "fpr_hub_" });
  }

  /** Counts checks and verifications as the audit log records them (its onRecord). */
  countAudited(entry: AuditEntry): void {
    if (entry.kind === "CHECK") this.checks.inc({ version: entry.version ?? "NONE", result: entry.result });
    else if (entry.kind === "VERIFY") this.verifications.inc({ result: entry.result });
  }

  /** Scrape-time gauges over the runtime's database and queues. */
  watch(runtime: MetricSources): void {
    const db = runtime.services.db;
    const registers = [this.registry];
    new Gauge({
      name: "fpr_hub_outbox_backlog",
      help: "Committed events whose deliveries are not yet written to the delivery ledger.",
      registers,
      collect() {
        this.set(countUndispatched(db));
      },
    });
    new Gauge({
      name: "fpr_hub_deliveries_owed",
      help: "Webhook deliveries still owed (the delivery ledger: not yet succeeded, dead or found not owed).",
      registers,
      collect() {
        this.set(runtime.services.ledger.total());
      },
    });
    new Gauge({
      name: "fpr_hub_deliveries_owed_oldest_seconds",
      help: "Age of the oldest delivery still owed; 0 when none is.",
      registers,
      collect() {
        const oldest = runtime.services.ledger.oldest();
        this.set(oldest ? Math.max(0, (runtime.now().getTime() - Date.parse(oldest)) / 1000) : 0);
      },
    });
    new Gauge({
      name: "fpr_hub_queue_jobs",
      help: "Jobs per queue and state.",
      labelNames: ["queue", "state"],
      registers,
      async collect() {
        for (const queue of runtime.queues.all) {
          const counts = await queue.getJobCounts("waiting", "active", "delayed", "failed").catch(() => null);
          for (const [state, n] of Object.entries(counts ?? {})) this.set({ queue: queue.name, state }, n);
        }
      },
    });
    new Gauge({
      name: "fpr_hub_audit_pending",
      help: "Audit records waiting in memory to be written (grows while storage fails).",
      registers,
      collect() {
        this.set(runtime.services.audit.pendingCount);
      },
    });
    new Gauge({
      name: "fpr_hub_storage_free_bytes",
      help: "Free bytes in DATA_DIR (the least free of it and the database's folder) at the last check.",
      registers,
      collect() {
        if (runtime.storage.freeBytes !== null) this.set(runtime.storage.freeBytes);
      },
    });
    new Gauge({
      name: "fpr_hub_partners",
      help: "Partners by strongest evidence of V2023 adaptation.",
      labelNames: ["level"],
      registers,
      collect() {
        for (const level of ["NONE", "DECLARED", "OBSERVED", "VERIFIED"]) this.set({ level }, 0);
        for (const partner of runtime.services.partners.list()) this.inc({ level: partner.adaptation.level });
      },
    });
    new Gauge({
      name: "fpr_hub_holders",
      help: "Active holders, and those on a V2023 card.",
      labelNames: ["card"],
      registers,
      collect() {
        const [total] = runtime.services.coverage.migrationProgress("TOTAL");
        this.set({ card: "any" }, total?.activeHolders ?? 0);
        this.set({ card: "V2023" }, total?.onV2023 ?? 0);
      },
    });
  }

  route(): RouteHandler {
    return async (_req: http.IncomingMessage, res: http.ServerResponse) => {
      const body = await this.registry.metrics();
      res.writeHead(200, { "content-type": this.registry.contentType });
      res.end(body);
    };
  }
}
