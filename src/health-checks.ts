/**
 * What the hub knows is wrong right now, as /readyz reports it. Each part of the hub that can see
 * trouble (storage, Redis, the queues) reports under its own source; a report replaces that
 * source's previous one and `null` clears it. A `problem` makes the hub not ready (503); a
 * `warning` keeps it ready but is listed. /readyz shows the short codes only; the detail goes to
 * the log, once when it appears and once when it clears.
 */
export type Severity = "problem" | "warning";

export interface HealthReport {
  /** A short, stable code, e.g. `storage-full` or `redis-eviction-policy`: safe to show anyone. */
  code: string;
  severity: Severity;
  /** For the operator's log: what is wrong and what to do. */
  detail: string;
  /** The log line's level, when not the severity's (error for a problem, warn for a warning): a planned stop is news, not an error. */
  logLevel?: "info" | "warn" | "error";
}

export class HealthChecks {
  readonly #reports = new Map<string, HealthReport & { since: number }>();

  constructor(private readonly log: (entry: Record<string, unknown>) => void = () => {}) {}

  /** `note` adds fields to the log line of a change (e.g. how long a problem lasted). */
  report(source: string, report: HealthReport | null, note: Record<string, unknown> = {}): void {
    const before = this.#reports.get(source);
    if (!report) {
      if (before) {
        this.#reports.delete(source);
        this.log({ level: "info", msg: "health: cleared", source, code: before.code, ...note });
      }
      return;
    }
    if (before && before.code === report.code && before.severity === report.severity) return;
    this.#reports.set(source, { ...report, since: Date.now() });
    this.log({ level: report.logLevel ?? (report.severity === "problem" ? "error" : "warn"), msg: `health: ${report.detail}`, source, code: report.code });
  }

  /** The codes of every current problem and warning, sorted. */
  codes(severity: Severity): string[] {
    return [...this.#reports.values()].filter((r) => r.severity === severity).map((r) => r.code).sort();
  }

  has(code: string): boolean {
    return [...this.#reports.values()].some((r) => r.code === code);
  }
}
