import type { Job } from "bullmq";
import { expireDueCards } from "../src/cards/card-expiry.ts";
import type { ConformanceProbe } from "../src/coverage/conformance-probe.ts";
import type { HubServices } from "../src/app/services.ts";
import { conformanceJobData, InvalidJobData, maintenanceJob } from "./job-data.ts";
import type { ConformanceJob } from "./queues.ts";

/** Runs a conformance probe the coverage API started (a run that does not exist is refused). */
export function createConformanceProcessor(conformance: ConformanceProbe) {
  return async (job: Job<ConformanceJob>): Promise<string> => {
    const { runId } = conformanceJobData(job.data);
    if (!conformance.get(runId)) throw new InvalidJobData("conformance", "no such run");
    return (await conformance.run(runId)).state;
  };
}

/** The scheduled upkeep, by job name: the expiry sweep, the audit purge, the sweep of import files. */
export function createMaintenanceProcessor(services: Pick<HubServices, "audit" | "register">, auditRetentionDays: number, sweepImports: () => Promise<unknown>) {
  return async (job: Job): Promise<unknown> => {
    const name = maintenanceJob(job.name, job.data);
    if (name === "audit.purge") return services.audit.purge(auditRetentionDays);
    if (name === "imports.sweep") return sweepImports();
    return expireDueCards(services.register);
  };
}
