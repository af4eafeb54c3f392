/**
 * Reading never needs a write: authentication only notes a key's use in memory, and the batched
 * flush writes it. Proved with a genuine SQLITE_BUSY (a second connection holds the write lock):
 * requests still authenticate (they used to fail writing lastUsedAt), the use waits and is
 * written once the lock is gone; lastUsedAt keeps its resolution and never goes backwards.
 */
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { StorageReporter } from "../../src/db/storage-errors.ts";
import { ApiKeyService } from "../../src/partners/api-keys.ts";
import { holdWriteLock } from "../helpers/storage-full.ts";
import { TestClock, tempServices } from "../helpers/temp-hub.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Past the principal cache (PRINCIPAL_CACHE_MS), so the next authenticate reads the key again. */
const pastCache = () => sleep(1_100);

describe("key use (lastUsedAt) off the request path", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  function setup() {
    const clock = new TestClock();
    const services = tempServices(clock);
    const seen = { errors: [] as string[], oks: [] as string[], losses: [] as string[] };
    const storage: StorageReporter = {
      recordStorageError: (writer, error) => seen.errors.push(`${writer}: ${(error as { code?: string }).code}`),
      recordStorageOk: (writer) => seen.oks.push(writer),
      recordStorageLoss: (writer, what) => seen.losses.push(`${writer}: ${what}`),
    };
    const keys = new ApiKeyService(services.db, clock.now, storage);
    cleanups.push(() => services.db.$client.close());
    const { apiKey, secret } = keys.create({ role: "ADMIN" });
    const stored = () => (services.db.$client.prepare("SELECT last_used_at AS at FROM api_keys WHERE id = ?").get(apiKey.id) as { at: string | null }).at;
    return { services, keys, seen, clock, id: apiKey.id, secret, stored };
  }

  it("authenticates while the database cannot be written, and writes the use once it can", () => {
    const { services, keys, seen, clock, id, secret, stored } = setup();
    const release = holdWriteLock(services.db.$client, services.file, (file) => new Database(file));
    cleanups.push(() => release());
    const usedAt = clock.now().toISOString();
    expect(keys.authenticate(secret)).toMatchObject({ keyId: id, role: "ADMIN" });
    expect(keys.get(id)?.lastUsedAt).toBe(usedAt); // this process shows the use at once
    expect(keys.flushUses()).toBe(false);
    expect(seen.errors).toEqual([expect.stringMatching(/^key-use: SQLITE_BUSY/)]);
    expect(stored()).toBeNull();
    cleanups.pop()!();
    expect(keys.flushUses()).toBe(true);
    expect(stored()).toBe(usedAt);
    expect(seen.oks).toEqual(["key-use"]);
  });

  it("keeps the resolution (one refresh a minute), never moves the value backwards, and writes on close", async () => {
    const { services, keys, clock, secret, stored, seen } = setup();
    const first = clock.now().toISOString();
    keys.authenticate(secret);
    expect(keys.flushUses()).toBe(true);
    expect(stored()).toBe(first);
    clock.advance(30_000);
    await pastCache();
    keys.authenticate(secret);
    expect(keys.flushUses()).toBe(true);
    expect(stored()).toBe(first); // within a minute: no new use noted
    clock.advance(31_000);
    await pastCache();
    keys.authenticate(secret);
    // Another process wrote a newer use meanwhile: ours, older, does not replace it.
    const newer = new Date(clock.current.getTime() + 5_000).toISOString();
    services.db.$client.prepare("UPDATE api_keys SET last_used_at = ?").run(newer);
    expect(keys.flushUses()).toBe(true);
    expect(stored()).toBe(newer);
    clock.advance(120_000);
    await pastCache();
    const last = clock.now().toISOString();
    keys.authenticate(secret);
    keys.close();
    expect(stored()).toBe(last);
    expect(seen.losses).toEqual([]);
  });

  it("ignores unknown and revoked secrets (nothing noted, nothing written)", async () => {
    const { keys, id, secret, stored } = setup();
    expect(keys.authenticate("fpr_unknown")).toBeNull();
    expect(keys.authenticate("")).toBeNull();
    keys.revoke(id);
    expect(keys.authenticate(secret)).toBeNull();
    expect(keys.flushUses()).toBe(true);
    expect(stored()).toBeNull();
  });
});
