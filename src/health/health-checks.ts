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
}

export class HealthChecks {
  readonly #reports = new Map<string, HealthReport & { since: number }>();

  constructor(private readonly log: (entry: Record<string, unknown>) => void = () => {}) {}

  report(source: string, report: HealthReport | null): void {
    const before = this.#reports.get(source);
    if (!report) {
      if (before) {
        this.#reports.delete(source);
        this.log({ level: "info", msg: "health: cleared", source, code: before.code });
      }
      return;
    }
    if (before && before.code === report.code && before.severity === report.severity) return;
    this.#reports.set(source, { ...report, since: Date.now() });
    this.log({ level: report.severity === "problem" ? "error" : "warn", msg: `health: ${report.detail}`, source, code: report.code });
  }

  /** The codes of every current problem and warning, sorted. */
  codes(severity: Severity): string[] {
    return [...this.#reports.values()].filter((r) => r.severity === severity).map((r) => r.code).sort();
  }

  has(code: string): boolean {
    return [...this.#reports.values()].some((r) => r.code === code);
  }
}
