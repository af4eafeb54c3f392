import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { committedEvents, deliveryProblems, hasAll, issueCards, missing, type CommittedEvent } from "../helpers/delivery-audit.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import { tempDir, TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, subscribe } from "../helpers/webhook-fixtures.ts";

/**
 * Issue 11, "a restored backup": a hub commits and delivers N events, its SQLite file is backed
 * up online (better-sqlite3's backup), it commits and delivers M more, stops, and the backup is
 * restored into its data directory; it starts again on the same Redis and prefix and commits K
 * new events. The earlier design skipped 60 of 100 such events (their job ids were taken), and
 * would have sent them under the ids of the M events the restore erased, which a partner that
 * dedupes on `webhook-id` drops. Here: all K arrive, under ids the partner never saw; an event it
 * saw may come again only under its own id with the same bytes; and the partner's change-feed
 * cursor from before the restore returns the new events.
 *
 * Scaled down from the issue's 100 new events to N = M = K = 40 (the count of ids, not the volume,
 * is what matters).
 */

const N = 40;
const M = 40;
const K = 40;
const CHANGES = `query ($after: String) { changes(after: $after, first: 1000) { edges { cursor node { id sequence } } pageInfo { endCursor hasNextPage } } }`;

describe("delivery from a database restored from a backup", () => {
  let hub: TestHub | undefined;
  let receiver: TestReceiver | undefined;

  afterAll(async () => {
    await receiver?.close();
    await hub?.close().catch(() => undefined);
  });

  it("delivers every new event under an id the partner has not seen, and the old cursor finds them", async () => {
    const prefix = uniquePrefix();
    const dataDir = tempDir();
    const settings = { QUEUE_PREFIX: prefix, DATA_DIR: dataDir };
    receiver = await TestReceiver.start();
    const r = receiver;

    hub = await TestHub.start(settings, undefined, { worker: true });
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    r.secrets = [(await subscribe(hub, partner.secret, r.url, ["CARD_ISSUED"])).secret];
    const issuer = hub.key("ISSUER");
    const readChanges = async (after: string | null): Promise<{ ids: string[]; endCursor: string | null }> => {
      const answer = await hub!.gql(partner.secret, CHANGES, { after });
      expect(answer.errors).toBeUndefined();
      expect(answer.data.changes.pageInfo.hasNextPage).toBe(false);
      return { ids: answer.data.changes.edges.map((e: { node: { id: string } }) => e.node.id), endCursor: answer.data.changes.pageInfo.endCursor };
    };

    // N events, delivered and pulled; then the online backup.
    await issueCards(hub, issuer, 0, N);
    const backedUp = committedEvents(hub.services.db.$client);
    await eventually(() => hasAll(r, backedUp.keys()), 30_000, "the first events at the receiver");
    const cursorAtBackup = (await readChanges(null)).endCursor;
    const backupFile = path.join(tempDir(), "backup.sqlite");
    await hub.services.db.$client.backup(backupFile);
    const identityAtBackup = databaseId(hub);

    // M more, delivered and pulled: the partner holds them and a cursor after them.
    await issueCards(hub, issuer, N, M);
    const beforeRestore = committedEvents(hub.services.db.$client);
    expect(beforeRestore.size).toBe(N + M);
    await eventually(() => hasAll(r, beforeRestore.keys()), 30_000, "the events after the backup at the receiver");
    const pulled = await readChanges(cursorAtBackup);
    expect(pulled.ids).toHaveLength(M);
    const cursorBeforeRestore = pulled.endCursor;
    const seenBeforeRestore = new Set(r.ids());
    const erased = new Map<string, CommittedEvent>([...beforeRestore].filter(([id]) => !backedUp.has(id)));

    // Stop, restore the backup file into the data directory, start again on the same Redis and prefix.
    const databasePath = hub.config.databasePath;
    await hub.close();
    hub = undefined;
    for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(databasePath + suffix, { force: true });
    fs.copyFileSync(backupFile, databasePath);
    hub = await TestHub.start(settings, undefined, { worker: true });
    const db = hub.services.db.$client;
    expect(committedEvents(db).size).toBe(N);
    expect(databaseId(hub)).not.toBe(identityAtBackup);

    // K new events: all delivered, under new ids.
    await issueCards(hub, issuer, N + M, K);
    const restored = committedEvents(db);
    const fresh = [...restored.keys()].filter((id) => !backedUp.has(id));
    expect(fresh).toHaveLength(K);
    await eventually(() => hasAll(r, fresh), 30_000, "the new events at the receiver").catch((error: Error) => {
      throw new Error(`${error.message}: ${missing(r, fresh)} of ${K} missing`);
    });
    expect(fresh.filter((id) => seenBeforeRestore.has(id))).toEqual([]);
    expect(Math.min(...fresh.map((id) => restored.get(id)!.sequence))).toBeGreaterThan(N + M);
    // Events of the backup may come again, but only under their own id with the same bytes
    // (checked with the rest: no id carries two bodies, each matches its committed event).
    expect(deliveryProblems(r, restored, erased)).toEqual([]);

    // The partner's cursors from before the restore continue with the new events.
    expect((await readChanges(cursorBeforeRestore)).ids).toEqual(fresh);
    expect((await readChanges(cursorAtBackup)).ids).toEqual(fresh);
  }, 90_000);
});

function databaseId(hub: TestHub): string {
  return (hub.services.db.$client.prepare("SELECT value FROM hub_meta WHERE key = 'database_id'").get() as { value: string }).value;
}
