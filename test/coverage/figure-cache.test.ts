import { describe, expect, it } from "vitest";
import { FigureCache } from "../../src/coverage/figure-cache.ts";

describe("figure cache", () => {
  it("reuses a figure until this process changes the register or it ages out", () => {
    let version = 0;
    let now = 1_000;
    let computed = 0;
    const cache = new FigureCache(() => version, 30_000, () => now);
    const read = () => cache.get("k", () => ++computed);
    expect([read(), read()]).toEqual([1, 1]);
    version += 1;
    expect(read()).toBe(2);
    now += 29_999;
    expect(read()).toBe(2);
    now += 1;
    expect(read()).toBe(3);
    expect(cache.get("other", () => "x")).toBe("x");
  });
});
