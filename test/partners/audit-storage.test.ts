/**
 * The audit trail when storage fails (a genuine SQLITE_FULL: the database may not grow): a failed
 * flush keeps every record and never throws, not even from its timer (a throw there ended the
 * process); the timer retries and writes them all, once each, when space returns; checks are
 * refused (SERVICE_UNAVAILABLE) only when the buffer is full, never answered unaudited, and
 * nothing is dropped.
 */
import { afterEach, describe, expect, it } from "vitest";
import { CardLookup } from "../../src/cards/card-lookup.ts";
import type { StorageReporter } from "../../src/db/storage-errors.ts";
import { HubError } from "../../src/errors.ts";
import { Digester } from "../../src/hub-secret.ts";
import { AuditLog, type AuditEntry } from "../../src/partners/audit-log.ts";
import { eventually } from "../helpers/receiver.ts";
import { capPages } from "../helpers/storage-full.ts";
import { TEST_SECRET, TestClock, tempServices } from "../helpers/temp-hub.ts";
import { v2023 } from "../helpers/webhook-fixtures.ts";

/** What the audit told the storage monitor. */
function reporter() {
  const seen = { errors: [] as { writer: string; error: unknown; pending?: string }[], oks: [] as string[], losses: [] as string[] };
  const storage: StorageReporter = {
    recordStorageError: (writer, error, options) => seen.errors.push({ writer, error, pending: options?.pending }),
    recordStorageOk: (writer) => seen.oks.push(writer),
    recordStorageLoss: (writer, what) => seen.losses.push(`${writer}: ${what}`),
  };
  return { seen, storage };
}

const check = (n: number): AuditEntry => ({ kind: "CHECK", keyId: "key_a", partnerId: null, number: v2023(n % 1000), version: "V2023", result: "NOT_FOUND" });

describe("audit log on a full database", () => {
  const opened: { close(): void }[] = [];
  afterEach(() => {
    for (const item of opened.splice(0)) item.close();
  });

  function setup(maxPending?: number) {
    const clock = new TestClock();
    const services = tempServices(clock);
    const { seen, storage } = reporter();
    const audit = new AuditLog(services.db, new Digester(TEST_SECRET), clock.now, { storage, maxPending });
    opened.push({ close: () => services.db.$client.close() });
    /** Writes records from other audit logs until the capped database takes not even the smallest record. */
    const fillUp = () => {
      const tiny: AuditEntry = { kind: "CHECK", keyId: null, partnerId: null, number: null, version: null, result: "X" };
      const stages: [number, AuditEntry][] = [[200, check(0)], [20, check(0)], [1, check(0)], [1, tiny]];
      for (const [size, entry] of stages) {
        for (let written = true; written; ) {
          const filler = new AuditLog(services.db, new Digester(TEST_SECRET), clock.now);
          for (let i = 0; i < size; i += 1) filler.record({ ...entry, keyId: entry.keyId && "key_filler" });
          written = filler.flush();
          filler.close();
        }
      }
    };
    const stored = () => services.db.$client.prepare("SELECT id FROM audit_log WHERE key_id = 'key_a' ORDER BY id").all().map((r: any) => r.id as string);
    return { services, audit, seen, stored, fillUp };
  }

  it("keeps every record through failing flushes (its timer included), and writes each once when space returns", async () => {
    const { services, audit, seen, stored } = setup();
    const uncap = capPages(services.db.$client);
    const ids = Array.from({ length: 3000 }, (_, i) => audit.record(check(i)));
    expect(audit.flush()).toBe(false);
    expect(audit.pendingCount).toBe(3000);
    expect(seen.errors[0]).toMatchObject({ writer: "audit", pending: "3000 audit records" });
    expect((seen.errors[0].error as { code?: string }).code).toBe("SQLITE_FULL");
    // The 250 ms timer keeps trying (and failing): nothing thrown, nothing lost.
    await eventually(() => seen.errors.length >= 4, 20_000, "four failed flushes");
    expect(stored().length + audit.pendingCount).toBe(3000);
    uncap();
    await eventually(() => audit.pendingCount === 0, 20_000, "the buffer written by the timer");
    expect(stored().sort()).toEqual([...ids].sort());
    expect(seen.oks).toContain("audit");
    expect(services.db.$client.pragma("integrity_check", { simple: true })).toBe("ok");
    audit.close();
    expect(seen.losses).toEqual([]);
  });

  it("refuses a check (a batch whole) once the buffer is full, drops nothing, and answers again once written", () => {
    const { services, audit, stored, fillUp } = setup(50);
    const uncap = capPages(services.db.$client);
    fillUp();
    const lookup = new CardLookup(services.register.queries, services.register.now, audit);
    const viewer = { canReadLineage: false, keyId: "key_a", partnerId: null };
    while (audit.pendingCount < 50) lookup.checkCard(v2023(1), undefined, viewer);
    const pending = audit.pendingCount;
    const refused = (call: () => unknown) => {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HubError);
      expect((error as HubError).code).toBe("SERVICE_UNAVAILABLE");
      expect((error as HubError).message).toBe("storage is temporarily unavailable (the disk is full); retry shortly");
      expect((error as HubError).extensions).toEqual({ retryAfterMs: 5000 });
    };
    refused(() => lookup.checkCard(v2023(2), undefined, viewer));
    refused(() => lookup.checkCards([v2023(3), v2023(4), "junk"], viewer));
    refused(() => audit.flushOrRefuse());
    expect(audit.pendingCount).toBe(pending);
    const before = stored().length;
    uncap();
    expect(audit.flush()).toBe(true);
    expect(stored().length).toBe(before + pending);
    expect(lookup.checkCards([v2023(3), v2023(4)], viewer).map((c) => c.result)).toEqual(["NOT_FOUND", "NOT_FOUND"]);
  });

  it("answers a verification's record with its id while it waits; what a shutdown cannot write is reported as lost", () => {
    const { services, audit, seen, stored, fillUp } = setup();
    const uncap = capPages(services.db.$client);
    fillUp();
    const id = audit.recordNow({ kind: "VERIFY", keyId: "key_a", partnerId: null, number: null, version: null, result: "MALFORMED" });
    expect(id).toMatch(/^aud_/);
    expect(stored()).not.toContain(id);
    audit.close();
    expect(seen.losses).toEqual(["audit: 1 audit records"]);
    uncap();
  });
});
