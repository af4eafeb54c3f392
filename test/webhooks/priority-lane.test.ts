import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCard } from "../../src/cards/card-issuing.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { TestReceiver } from "../helpers/receiver.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

describe("priority lane", () => {
  let hub: TestHub;
  let receiver: TestReceiver;
  beforeAll(async () => {
    hub = await TestHub.start({ WORKER_CONCURRENCY: "2" }, undefined, { worker: true });
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await hub.close();
  });

  it("delivers a revocation ahead of a bulk backlog", async () => {
    const BULK = 150;
    const issuer = hub.key("ISSUER");
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret;
    receiver.secrets = [(await subscribe(hub, partner, receiver.url, ["CARD_ISSUED", "CARD_REVOKED"])).secret];
    // Bulk deliveries are slow at this receiver: 150 of them take several seconds at concurrency 2.
    receiver.respond = () => ({ status: 204, delayMs: 40 });
    const target = v2023(999);
    await issue(hub, issuer, target);
    hub.services.db.$client.transaction(() => {
      for (let i = 0; i < BULK; i += 1) issueCard(hub.services.register, { number: v2023(i, "1990-01-01"), validFrom: "2024-01-01", validUntil: "2030-01-01", englishName: "BULK, LOAD" });
    })();
    hub.runtime.relay.kick();
    await receiver.waitFor(() => receiver.received.length >= 5);
    await hub.gql(issuer, `mutation { revokeCard(number: "${target}", reason: "fraud") { state } }`);
    await receiver.waitFor(() => receiver.received.some((r) => r.event.type === "card.revoked"), 20_000);
    // The revocation has its own lane and workers: it overtakes most of the bulk backlog.
    const issuedBefore = receiver.received.findIndex((r) => r.event.type === "card.revoked");
    expect(issuedBefore).toBeLessThan(BULK / 2);
    await receiver.waitFor(() => receiver.ids().size === BULK + 2, 30_000);
  }, 60_000);
});
