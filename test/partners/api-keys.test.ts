/**
 * Authentication is cached for a second per secret: a revocation in the same process applies at
 * once, one made by another process (two services over one SQLite file) within the cache period.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import { ApiKeyService, PRINCIPAL_CACHE_MS } from "../../src/partners/api-keys.ts";
import { tempServices } from "../helpers/temp-hub.ts";

describe("ApiKeyService.authenticate", () => {
  it("applies a revocation by this process at once, and one by another process within the cache period", async () => {
    const services = tempServices();
    const here = services.apiKeys;
    const elsewhere = new ApiKeyService(openDatabase(services.file));
    const local = here.create({ role: "VIEWER" });
    const remote = here.create({ role: "VIEWER" });
    expect(here.authenticate(local.secret)?.keyId).toBe(local.apiKey.id);
    expect(here.authenticate(remote.secret)?.keyId).toBe(remote.apiKey.id);

    here.revoke(local.apiKey.id);
    expect(here.authenticate(local.secret)).toBeNull();

    elsewhere.revoke(remote.apiKey.id);
    await sleep(PRINCIPAL_CACHE_MS + 50);
    expect(here.authenticate(remote.secret)).toBeNull();
  });

  it("never caches an unknown secret: a key created afterwards by another process works at once", () => {
    const services = tempServices();
    const elsewhere = new ApiKeyService(openDatabase(services.file));
    expect(services.apiKeys.authenticate("fpr_unknown")).toBeNull();
    const created = elsewhere.create({ role: "VIEWER" });
    expect(services.apiKeys.authenticate(created.secret)?.keyId).toBe(created.apiKey.id);
    expect(services.apiKeys.authenticate(`${created.secret}x`)).toBeNull();
  });
});
