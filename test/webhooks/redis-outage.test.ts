import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { makeV2023Number } from "../../src/card-numbers/card-number-generator.ts";
import { PrivateRedis } from "../helpers/private-redis.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";

/**
 * The outbox survives a Redis outage: while Redis is down, issuer mutations still commit at once
 * (and checks still answer), and their deliveries wait in SQLite's ledger; once Redis is back,
 * every committed event reaches the subscriber, signed, and nothing else does.
 */

const CARDS = 30;
const PER_REQUEST_TIMEOUT_MS = 5_000;

const ISSUE = `mutation ($input: IssueCardInput!) { issueCard(input: $input) { number state } }`;
const CHECK = `query ($number: String!) { checkCard(number: $number) { result } }`;
const SUBSCRIBE = `mutation ($url: String!, $types: [EventType!]!) { createWebhookSubscription(url: $url, eventTypes: $types) { subscription { id } secret } }`;
const ALL_TYPES = ["CARD_ISSUED", "CARD_SUPERSEDED", "CARD_REPORTED_LOST", "CARD_REVOKED", "CARD_EXPIRED", "HOLDER_STATUS_CHANGED"];

/** A GraphQL call that cannot hang the test: aborted (and so failed) after a generous timeout. */
async function gqlWithin(hub: TestHub, secret: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${hub.api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(PER_REQUEST_TIMEOUT_MS),
  });
  return { status: response.status, ...((await response.json()) as { data?: any; errors?: { message: string }[] }) };
}

describe("webhook delivery across a Redis outage", () => {
  let redis: PrivateRedis | undefined;
  let hub: TestHub | undefined;
  let receiver: TestReceiver | undefined;

  afterAll(async () => {
    await receiver?.close();
    if (hub) {
      // BullMQ workers close cleanly only against a live Redis: bring it back if a failure left it down.
      if (redis && !redis.running) await redis.start().catch(() => undefined);
      const dataDir = hub.config.dataDir;
      await Promise.race([hub.close(), new Promise((resolve) => setTimeout(resolve, 15_000))]);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    await redis?.destroy();
  });

  it("commits every mutation while Redis is down and delivers every committed event after it returns", async () => {
    redis = await PrivateRedis.start();
    hub = await TestHub.start({ REDIS_URL: redis.url }, undefined, { worker: true });
    const db = hub.services.db.$client;
    const count = (where = "1"): number => (db.prepare(`SELECT count(*) AS n FROM events WHERE ${where}`).get() as { n: number }).n;

    receiver = await TestReceiver.start();
    const partner = hub.partnerKey(["CARDS_CHECK", "EVENTS_ALL", "WEBHOOKS_MANAGE"]);
    const created = await gqlWithin(hub, partner.secret, SUBSCRIBE, { url: receiver.url, types: ALL_TYPES });
    expect(created.errors).toBeUndefined();
    receiver.secrets = [created.data.createWebhookSubscription.secret];
    const issuer = hub.key("ISSUER");
    expect(count()).toBe(0);

    // Redis goes away, and the hub's producer connection has noticed.
    await redis.stop("SIGTERM");
    await eventually(() => hub!.runtime.queues.connection.status !== "ready", 10_000, "the hub noticing Redis is down");

    const numbers = Array.from({ length: CARDS }, (_, i) =>
      // One holder per birth date: numbers of one stem would count as guesses (enumeration guard).
      makeV2023Number({ provinceCode: "11", nationalityNumeric: "124", birthDate: new Date(Date.UTC(1960, 0, 1) + i * 86_400_000).toISOString().slice(0, 10), sequence: i }),
    );
    for (const number of numbers) {
      const answer = await gqlWithin(hub, issuer, ISSUE, {
        input: { number, validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "OUTAGE, TEST" },
      });
      expect(answer.errors, `issueCard ${number}`).toBeUndefined();
      expect(answer.status).toBe(200);
      expect(answer.data.issueCard).toEqual({ number, state: "VALID" });
      // Reads stay up too (their per-key rate limit is counted in Redis, with an in-memory fallback).
      const check = await gqlWithin(hub, partner.secret, CHECK, { number });
      expect(check.errors, `checkCard ${number}`).toBeUndefined();
      expect(check.data.checkCard.result).toBe("VALID");
    }

    // Committed, and owed in the database: the fan-out needs no Redis, the hand-off does.
    const owed = (where = "1"): number => (db.prepare(`SELECT count(*) AS n FROM owed_deliveries WHERE ${where}`).get() as { n: number }).n;
    expect(count()).toBe(CARDS);
    await eventually(() => count("dispatched_at IS NULL") === 0, 10_000, "the fan-out into the ledger");
    expect(owed()).toBe(CARDS);
    // A few relay polls later, still nothing was handed over and nothing delivered.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(owed("queued = 0")).toBe(CARDS);
    expect(receiver.received).toHaveLength(0);

    // Redis returns on the same port and directory.
    await redis.start();
    const committed = new Set((db.prepare("SELECT sequence FROM events").all() as { sequence: number }[]).map((row) => `evt_${row.sequence}`));
    expect(committed.size).toBe(CARDS);

    await receiver.waitFor(() => [...committed].every((id) => receiver!.ids().has(id)), 30_000);
    await eventually(() => owed() === 0, 10_000, "every delivery settled");

    expect(receiver.ids()).toEqual(committed);
    expect(receiver.received.filter((r) => !r.verified).map((r) => r.id)).toEqual([]);
    for (const r of receiver.received) {
      expect(r.event.id).toBe(r.id);
      expect(r.event.type).toBe("card.issued");
      expect(numbers).toContain(r.event.subject);
    }
    // The set of committed events did not change behind our back.
    expect(count()).toBe(CARDS);
  }, 90_000);
});
