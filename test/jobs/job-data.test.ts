import { UnrecoverableError } from "bullmq";
import { describe, expect, it } from "vitest";
import { conformanceJobData, deliverJobData, fanoutJobData, importJobData, maintenanceJob, priorAttemptsOf } from "../../jobs/job-data.ts";

/** The shapes the hub itself queues (fan-out retries, replays, test events, probes, imports, upkeep) pass unchanged. */
describe("job data the hub queues", () => {
  it("accepts every shape the hub's own producers write", () => {
    const shapes = [
      { subscriptionId: "sub_4LLKuce0CxhF", sequence: 12, priorAttempts: 1 },
      { subscriptionId: "sub_4LLKuce0CxhF", sequence: 12 },
      { subscriptionId: "sub_4LLKuce0CxhF", sequence: null, testEventId: "test_x-Y_z0123456", testTime: "2026-12-01T09:46:02.026Z" },
      { subscriptionId: "sub_demo_grand-hotel", sequence: 3 },
      // A delivery ledger row's hand-off (the relay's delivery jobs).
      { subscriptionId: "sub_4LLKuce0CxhF", sequence: 12, handoff: 3 },
    ];
    for (const shape of shapes) expect(deliverJobData(JSON.parse(JSON.stringify(shape)))).toEqual(shape);
    expect(fanoutJobData({ sequence: 1 })).toEqual({ sequence: 1 });
    expect(conformanceJobData({ runId: "run_AbCdEfGhIjKl" })).toEqual({ runId: "run_AbCdEfGhIjKl" });
    const upload = { importId: "imp_AbCdEfGhIjKl", format: "csv", issuerKeyId: "key_AbCdEfGhIjKl" };
    expect(importJobData({ ...upload })).toEqual(upload);
    expect(maintenanceJob("imports.sweep", undefined)).toBe("imports.sweep");
    expect(maintenanceJob("audit.purge", {})).toBe("audit.purge");
    expect(maintenanceJob("cards.expire-sweep", undefined)).toBe("cards.expire-sweep");
  });

  it("refuses with an UnrecoverableError that names the field, never its value", () => {
    const cases: [() => unknown, RegExp][] = [
      [() => importJobData({ importId: "../../x", format: "ndjson" }), /^invalid import job: importId$/],
      [() => deliverJobData({ subscriptionId: "sub_a", sequence: "1" }), /^invalid deliver job: sequence$/],
      [() => deliverJobData({ subscriptionId: "sub_a", sequence: null, testEventId: "evt_1", testTime: "2026-12-01T09:46:02.026Z" }), /^invalid deliver job: testEventId$/],
      [() => deliverJobData({ subscriptionId: "sub_a", sequence: null, testEventId: "test_AAAAAAAAAAAA", testTime: "2026-02-30T00:00:00.000Z" }), /^invalid deliver job: testTime$/],
      [() => deliverJobData({ subscriptionId: "sub_a", sequence: 1, priorAttempts: 1e9 }), /^invalid deliver job: priorAttempts$/],
      [() => deliverJobData({ subscriptionId: "sub_a", sequence: 1, "secret-value": 1 }), /^invalid deliver job: unexpected field$/],
      [() => fanoutJobData({ sequence: 2 ** 53 }), /^invalid fanout job: sequence$/],
      [() => deliverJobData({ subscriptionId: "sub_a", sequence: 1, handoff: 0 }), /^invalid deliver job: handoff$/],
      [() => deliverJobData({ subscriptionId: "sub_a", sequence: 1, handoff: 1.5 }), /^invalid deliver job: handoff$/],
      [() => deliverJobData({ subscriptionId: "sub_a", sequence: 1, handoff: "2" }), /^invalid deliver job: handoff$/],
      [() => deliverJobData({ subscriptionId: "sub_a", sequence: null, testEventId: "test_AAAAAAAAAAAA", testTime: "2026-12-01T09:46:02.026Z", handoff: 1 }), /^invalid deliver job: handoff on a test event$/],
      [() => maintenanceJob("cards.drop", {}), /^invalid maintenance job: name$/],
    ];
    for (const [call, message] of cases) {
      let error: unknown;
      try {
        call();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UnrecoverableError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it("reads priorAttempts for the backoff only when it is a small count", () => {
    expect(priorAttemptsOf({ priorAttempts: 1 })).toBe(1);
    for (const data of [{ priorAttempts: "3" }, { priorAttempts: -1 }, { priorAttempts: 1e9 }, null, undefined, "x"]) expect(priorAttemptsOf(data)).toBe(0);
  });
});
