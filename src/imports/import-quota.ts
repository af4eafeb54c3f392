import type { HubQueues } from "../../jobs/queues.ts";
import { HubError } from "../errors.ts";

const UNFINISHED = ["active", "waiting", "delayed", "prioritized", "paused", "waiting-children"] as const;

/**
 * At most `maxPerKey` imports per issuer key at once, counting uploads still being received (in
 * this api process) and jobs not yet finished (in Redis, so across processes). The upload is
 * counted before the queue is read, so concurrent uploads of one key cannot all pass the check.
 */
export class ImportQuota {
  readonly #uploading = new Map<string, number>();

  constructor(
    private readonly queues: HubQueues,
    private readonly maxPerKey: number,
  ) {}

  /** Reserves a place for an upload, or throws RATE_LIMITED; call the returned release once it is queued or refused. */
  async reserve(keyId: string): Promise<() => void> {
    const uploading = (this.#uploading.get(keyId) ?? 0) + 1;
    this.#uploading.set(keyId, uploading);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.#uploading.get(keyId) ?? 1) - 1;
      if (left > 0) this.#uploading.set(keyId, left);
      else this.#uploading.delete(keyId);
    };
    try {
      const unfinished = await this.#unfinishedJobs(keyId);
      if (unfinished + uploading > this.maxPerKey) {
        throw new HubError("RATE_LIMITED", `an issuer key may have at most ${this.maxPerKey} imports uploading, waiting or running at once; wait until one has finished (GET /imports/<id>)`);
      }
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  async #unfinishedJobs(keyId: string): Promise<number> {
    let jobs;
    try {
      jobs = await this.queues.imports.getJobs([...UNFINISHED]);
    } catch {
      throw new HubError("INTERNAL_SERVER_ERROR", "the import queue is unavailable right now; try again shortly");
    }
    return jobs.filter((job) => (job?.data as { issuerKeyId?: unknown } | undefined)?.issuerKeyId === keyId).length;
  }
}
