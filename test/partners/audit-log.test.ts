import { describe, expect, it } from "vitest";
import { TestClock, tempServices } from "../helpers/temp-hub.ts";

describe("audit log", () => {
  it("buffers checks, stores a keyed digest instead of the number, and purges past retention", () => {
    const clock = new TestClock(new Date("2025-01-01T00:00:00Z"));
    const services = tempServices(clock);
    const rows = () => services.db.$client.prepare("SELECT * FROM audit_log ORDER BY at").all() as Record<string, unknown>[];
    const old = services.audit.record({ kind: "CHECK", keyId: "key_a", partnerId: null, number: "911124198108030024", version: "V2023", result: "NOT_FOUND" });
    expect(rows()).toHaveLength(0); // buffered, not yet written
    services.audit.flush();
    expect(rows()).toEqual([expect.objectContaining({ id: old, kind: "CHECK", key_id: "key_a", version: "V2023", result: "NOT_FOUND" })]);
    expect(rows()[0].number_digest).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(rows())).not.toContain("911124198108030024");

    clock.advance(181 * 86_400_000);
    const recent = services.audit.recordNow({ kind: "VERIFY", keyId: "key_a", partnerId: null, number: null, version: null, result: "MALFORMED" });
    expect(services.audit.purge(180)).toBe(1);
    expect(rows().map((r) => r.id)).toEqual([recent]);
    expect(services.audit.purge(180)).toBe(0);
    services.audit.close();
  });
});
