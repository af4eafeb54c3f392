import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { issue, v2023 } from "../helpers/webhook-fixtures.ts";
import { tempDir, TestHub } from "../helpers/temp-hub.ts";

/**
 * The README's backup and restore, step by step, on real SQLite and the real test Redis: an online
 * backup (`sqlite3 .backup`, else better-sqlite3's backup API) taken while the hub runs and
 * writes, restored into DATA_DIR of a hub on the same Redis and QUEUE_PREFIX. The restored hub
 * has what the backup had, continues its event ids after those Redis saw, and (as the README
 * warns) a key revoked after the backup is valid again.
 */

const CHECK = `query ($number: String!) { checkCard(number: $number) { result } }`;

function hasSqlite3(): boolean {
  try {
    execFileSync("sqlite3", ["-version"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

describe("backing up and restoring the database", () => {
  const hubs: TestHub[] = [];
  afterEach(async () => {
    await Promise.all(hubs.splice(0).map((hub) => hub.close()));
  });

  it("an online backup restores to a hub that has what the backup had and continues its event ids after Redis's mark", async () => {
    const first = await TestHub.start();
    hubs.push(first);
    const issuer = first.key("ISSUER");
    const { id: partnerId } = first.services.partners.create({ name: "Backup Hotel", industry: "ACCOMMODATION", provinceCode: "11" });
    const partner = first.services.apiKeys.create({ role: "PARTNER", partnerId, scopes: ["CARDS_CHECK"] });
    for (const n of [1, 2, 3]) await issue(first, issuer, v2023(n));
    await first.runtime.relay.drain(); // the relay has handed them over: Redis's mark is at 3

    // The README's command, while the hub runs.
    const backup = path.join(tempDir(), "backup.sqlite");
    const live = first.config.databasePath;
    if (hasSqlite3()) execFileSync("sqlite3", [live, `.backup '${backup}'`], { stdio: "pipe" });
    else await first.services.db.$client.backup(backup);
    const copy = new Database(backup, { readonly: true });
    expect(copy.pragma("integrity_check", { simple: true })).toBe("ok");
    copy.close();

    // After the backup: two more events, and the partner's key revoked.
    for (const n of [4, 5]) await issue(first, issuer, v2023(n));
    await first.runtime.relay.drain();
    first.services.apiKeys.revoke(partner.apiKey.id);
    expect((await first.gql(partner.secret, CHECK, { number: v2023(2) })).status).toBe(401);
    await hubs.splice(0)[0].close();

    // Restore: the backup becomes the database of a hub on the same Redis and prefix.
    const dataDir = tempDir();
    fs.copyFileSync(backup, path.join(dataDir, "fpr-hub.sqlite"));
    const logs: Record<string, unknown>[] = [];
    const restored = await TestHub.start({ DATA_DIR: dataDir, QUEUE_PREFIX: first.config.queuePrefix }, undefined, { log: (entry) => logs.push(entry) });
    hubs.push(restored);
    expect(logs.some((entry) => /behind the event ids Redis has seen/.test(String(entry.msg)))).toBe(true);

    const db = restored.services.db.$client;
    expect((db.prepare("SELECT sequence FROM events ORDER BY sequence").all() as { sequence: number }[]).map((row) => row.sequence)).toEqual([1, 2, 3]);
    // The key revoked after the backup answers again: revoke it again before taking traffic.
    expect((await restored.gql(partner.secret, CHECK, { number: v2023(2) })).data.checkCard.result).toBe("VALID");
    expect((await restored.gql(partner.secret, CHECK, { number: v2023(4) })).data.checkCard.result).toBe("NOT_FOUND");

    await issue(restored, restored.key("ISSUER"), v2023(6));
    const newest = db.prepare("SELECT max(sequence) AS n FROM events").get() as { n: number };
    expect(newest.n).toBeGreaterThan(5); // never an id a partner may already have seen
  });
});
