import { eq } from "drizzle-orm";
import { preparedOnce, type HubDb } from "../db/client.ts";
import type { ConformanceRunState } from "../db/column-types.ts";
import { conformanceRuns, partners } from "../db/schema.ts";

export type ConformanceRunRow = typeof conformanceRuns.$inferSelect;

/** A lost V2023 instance and its valid replacement, by issue count. */
export interface LostInstanceRow {
  number: string;
  lostIssue: number;
  validIssue: number;
}

/**
 * The SQL of conformance runs. A run's start and end also set the partner's `conformance`
 * column, in the same transaction, so the partner and its latest run never disagree.
 */
export class ConformanceStore {

  constructor(private readonly db: HubDb) {}

  partnerExists(partnerId: string): boolean {
    return this.db.select({ id: partners.id }).from(partners).where(eq(partners.id, partnerId)).get() !== undefined;
  }

  /** A new RUNNING run, the partner marked RUNNING with it. */
  startRun(id: string, partnerId: string, startedAt: string): ConformanceRunRow {
    return this.db.transaction((tx) => {
      tx.update(partners).set({ conformance: "RUNNING" }).where(eq(partners.id, partnerId)).run();
      return tx.insert(conformanceRuns).values({ id, partnerId, state: "RUNNING", startedAt }).returning().get();
    });
  }

  run(id: string): ConformanceRunRow | undefined {
    return this.db.select().from(conformanceRuns).where(eq(conformanceRuns.id, id)).get();
  }

  /** The run graded, and the partner's conformance with it. */
  finishRun(run: Pick<ConformanceRunRow, "id" | "partnerId">, state: Exclude<ConformanceRunState, "RUNNING">, finishedAt: string, detail: string): ConformanceRunRow {
    return this.db.transaction((tx) => {
      tx.update(partners).set({ conformance: state, conformanceAt: finishedAt }).where(eq(partners.id, run.partnerId)).run();
      return tx.update(conformanceRuns).set({ state, finishedAt, detail }).where(eq(conformanceRuns.id, run.id)).returning().get()!;
    });
  }

  /**
   * A lost V2023 instance, with a valid replacement, among the cards the partner watches (prepared
   * on first use: probes are rare).
   */
  lostInstance(partnerId: string): LostInstanceRow | undefined {
    return preparedOnce<[string], LostInstanceRow>(this.db, `SELECT c.number AS number, c.issue_count AS lostIssue, n.issue_count AS validIssue FROM cards c
        JOIN watched_numbers w ON w.partner_id = ? AND w.number = c.number
        JOIN cards n ON n.number = c.number AND n.issue_count > c.issue_count AND n.state = 'VALID'
        WHERE c.version = 'V2023' AND c.state = 'REPORTED_LOST' LIMIT 1`).get(partnerId);
  }
}
