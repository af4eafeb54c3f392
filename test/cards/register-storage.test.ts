/**
 * Register mutations when storage fails: a genuine SQLITE_FULL (the database may not grow) and a
 * genuine SQLITE_BUSY (another connection holds the write lock) answer SERVICE_UNAVAILABLE, roll
 * back whole (every table as it was, no event logged, no relay kick), tell the storage monitor,
 * and the same mutation succeeds once storage is back.
 */
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { issueCard, type IssueCardData } from "../../src/cards/card-issuing.ts";
import { revokeCard } from "../../src/cards/card-register.ts";
import { RegisterContext } from "../../src/cards/register-context.ts";
import type { StorageReporter } from "../../src/db/storage-errors.ts";
import { HubError } from "../../src/errors.ts";
import { Digester } from "../../src/hub-secret.ts";
import { dbSnapshot } from "../helpers/db-snapshot.ts";
import { capPages, holdWriteLock } from "../helpers/storage-full.ts";
import { TEST_SECRET, TestClock, tempServices } from "../helpers/temp-hub.ts";
import { v2023 } from "../helpers/webhook-fixtures.ts";

const input = (number: string): IssueCardData => ({ number, validFrom: "2024-03-01", validUntil: "2034-02-28", englishName: "MARTIN, CLAIRE", sex: "FEMALE" });

function attempt(call: () => unknown): unknown {
  try {
    return call();
  } catch (error) {
    return error;
  }
}

describe("register mutations on failing storage", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  function setup() {
    const clock = new TestClock();
    const services = tempServices(clock);
    cleanups.push(() => services.db.$client.close());
    const seen: string[] = [];
    const storage: StorageReporter = {
      recordStorageError: (writer, error, options) => seen.push(`error ${writer} ${(error as { code?: string }).code} retrying=${options?.retrying}`),
      recordStorageOk: (writer) => seen.push(`ok ${writer}`),
      recordStorageLoss: () => {},
    };
    let kicks = 0;
    const register = new RegisterContext(services.db, new Digester(TEST_SECRET), clock.now, storage, () => (kicks += 1));
    return { services, register, seen, kicks: () => kicks };
  }

  it("SQLITE_FULL: the mutation that no longer fits is SERVICE_UNAVAILABLE and changes nothing; it succeeds once space is back", () => {
    const { services, register, seen, kicks } = setup();
    issueCard(register, input(v2023(900)));
    const uncap = capPages(services.db.$client);
    // Issue until the database has no room left for the next one (each success is a real change).
    let failed: { number: string; error: unknown; before: unknown; kicks: number } | null = null;
    for (let n = 1; n < 900 && !failed; n += 1) {
      const before = dbSnapshot(services.db);
      const kicksBefore = kicks();
      const outcome = attempt(() => issueCard(register, input(v2023(n))));
      if (outcome instanceof Error) failed = { number: v2023(n), error: outcome, before, kicks: kicksBefore };
    }
    expect(failed, "the capped database never filled up").not.toBeNull();
    const { number, error, before } = failed!;
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).code).toBe("SERVICE_UNAVAILABLE");
    expect((error as HubError).message).toBe("storage is temporarily unavailable (the disk is full); retry shortly");
    expect(dbSnapshot(services.db)).toEqual(before);
    expect(kicks()).toBe(failed!.kicks);
    expect(register.queries.instancesOf(number)).toEqual([]);
    expect(seen.at(-1)).toBe("error register SQLITE_FULL retrying=false");
    uncap();
    expect(issueCard(register, input(number))).toMatchObject({ number, state: "VALID" });
    expect(seen.at(-1)).toBe("ok register");
    expect(services.db.$client.pragma("integrity_check", { simple: true })).toBe("ok");
  });

  it("SQLITE_BUSY: a revocation while another connection holds the lock is SERVICE_UNAVAILABLE (retry in 1 s) and changes nothing", () => {
    const { services, register, seen } = setup();
    const number = v2023(1);
    issueCard(register, input(number));
    const before = dbSnapshot(services.db);
    const release = holdWriteLock(services.db.$client, services.file, (file) => new Database(file));
    const error = attempt(() => revokeCard(register, number, "fraud"));
    release();
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).code).toBe("SERVICE_UNAVAILABLE");
    expect((error as HubError).extensions).toEqual({ retryAfterMs: 1000 });
    expect(dbSnapshot(services.db)).toEqual(before);
    expect(seen.at(-1)).toMatch(/^error register SQLITE_BUSY/);
    expect(revokeCard(register, number, "fraud")).toMatchObject({ number, state: "REVOKED" });
  });

  it("a caller's mistake stays what it was (not a storage error), and reports nothing", () => {
    const { register, seen } = setup();
    const error = attempt(() => revokeCard(register, v2023(5), "fraud"));
    expect((error as HubError).code).toBe("NOT_FOUND");
    expect(seen).toEqual([]);
  });
});
