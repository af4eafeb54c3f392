import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { stopOnSignals, type StopPart } from "../../src/cli/shutdown.ts";
import { HealthChecks } from "../../src/health-checks.ts";
import { eventually } from "../helpers/receiver.ts";

/**
 * The order and the exit codes of a stop (src/cli/shutdown.ts), with the signals coming from an
 * emitter rather than this test process (test/cli/stop.test.ts sends real ones to real hubs).
 */
describe("stopOnSignals", () => {
  function setup(stages: StopPart[][], graceMs = 60_000) {
    const signals = new EventEmitter();
    const health = new HealthChecks();
    const exits: number[] = [];
    const log: Record<string, unknown>[] = [];
    const flushedBefore: number[] = [];
    const flushNow = () => void flushedBefore.push(exits.length);
    stopOnSignals({ health, log: (entry) => log.push(entry), graceMs, stages: () => stages, exit: (code) => exits.push(code), signals, flushNow });
    return { signals, health, exits, log, flushedBefore };
  }

  it("reports shutting-down before closing anything, closes the stages in order, then exits 0", async () => {
    const order: string[] = [];
    let healthAtFirstClose: string[] = [];
    const part = (name: string): StopPart => ({
      name,
      close: async () => {
        if (order.length === 0) healthAtFirstClose = health.codes("problem");
        order.push(`${name} begins`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        order.push(`${name} ends`);
      },
    });
    const { signals, health, exits, flushedBefore } = setup([[part("api"), part("worker")], [part("runtime")]]);
    signals.emit("SIGTERM");
    await eventually(() => exits.length > 0, 5_000, "the exit");
    expect(healthAtFirstClose).toEqual(["shutting-down"]);
    expect(order).toEqual(["api begins", "worker begins", "api ends", "worker ends", "runtime begins", "runtime ends"]);
    expect(exits).toEqual([0]);
    expect(flushedBefore).toEqual([]); // the runtime's own close wrote everything
  });

  it("a part that fails to close is logged and the rest still close", async () => {
    const closed: string[] = [];
    const { signals, exits, log } = setup([[{ name: "api", close: () => Promise.reject(new Error("boom")) }], [{ name: "runtime", close: async () => void closed.push("runtime") }]]);
    signals.emit("SIGINT");
    await eventually(() => exits.length > 0, 5_000, "the exit");
    expect(closed).toEqual(["runtime"]);
    expect(log.some((entry) => entry.msg === "stopping: api failed to close" && String(entry.error).includes("boom"))).toBe(true);
    expect(exits).toEqual([0]);
  });

  it("after the grace period exits 1 naming what still runs; a second signal exits 130 after SIGINT, 143 after SIGTERM; both write audit and key use first", async () => {
    const hang: StopPart = { name: "worker", close: () => new Promise(() => {}), describe: async () => "2 jobs active" };
    const late = setup([[hang]], 100);
    late.signals.emit("SIGTERM");
    await eventually(() => late.exits.length > 0, 5_000, "the exit");
    expect(late.exits).toEqual([1]);
    expect(late.flushedBefore).toEqual([0]); // audit and key use written before the exit
    expect(late.log.find((entry) => /grace period of 100 ms over/.test(String(entry.msg)))).toMatchObject({ stillRunning: ["worker (2 jobs active)"] });

    for (const [second, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      const forced = setup([[hang]], 100);
      forced.signals.emit("SIGTERM");
      forced.signals.emit(second);
      expect(forced.exits).toEqual([code]);
      expect(forced.flushedBefore).toEqual([0]);
    }
  });
});
