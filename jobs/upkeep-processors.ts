import type { Job } from "bullmq";
import { expireDueCards } from "../src/cards/card-expiry.ts";
import type { ConformanceProbe } from "../src/coverage/conformance-probe.ts";
import type { HubServices } from "../src/hub-services.ts";
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

/** The scheduled upkeep: the expiry sweep and the audit purge, by job name. */
export function createMaintenanceProcessor(services: Pick<HubServices, "audit" | "register">, auditRetentionDays: number) {
  return async (job: Job): Promise<unknown> =>
    maintenanceJob(job.name, job.data) === "audit.purge" ? services.audit.purge(auditRetentionDays) : expireDueCards(services.register);
}
