import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort } from "../../src/redis/find-redis.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { eventually } from "../helpers/receiver.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

describe("the README's example receiver", () => {
  let hub: TestHub;
  let child: ReturnType<typeof spawn> | undefined;
  beforeAll(async () => {
    hub = await TestHub.start({}, undefined, { worker: true });
  });
  afterAll(async () => {
    child?.kill();
    await hub.close();
  });

  it("verifies real deliveries and a test event with standardwebhooks", async () => {
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret;
    const port = await findFreePort();
    const url = `http://127.0.0.1:${port}/`;
    const sub = await subscribe(hub, partner, url, ["CARD_ISSUED", "CARD_REVOKED"]);
    let output = "";
    child = spawn(process.execPath, ["examples/webhook-receiver.js"], { env: { ...process.env, WEBHOOK_SECRET: sub.secret, PORT: String(port) } });
    child.stdout!.on("data", (chunk) => (output += chunk));
    await eventually(() => output.includes("listening"), 10_000, "receiver start");
    await hub.gql(partner, `mutation { sendTestEvent(subscriptionId: "${sub.id}") { id } }`);
    await issue(hub, hub.key("ISSUER"), v2023(5));
    await hub.gql(hub.key("ISSUER"), `mutation { revokeCard(number: "${v2023(5)}", reason: "x") { state } }`);
    await eventually(() => output.split("\n").filter((l) => l.includes('"verified":true')).length === 3, 15_000, "three verified lines");
    const lines = output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type).sort()).toEqual(["card.issued", "card.revoked", "webhook.test"]);
    await eventually(async () => {
      const log = await hub.gql(partner, `{ webhookDeliveries(subscriptionId: "${sub.id}") { status responseStatus } }`);
      return log.data.webhookDeliveries.length === 3 && log.data.webhookDeliveries.every((d: any) => d.status === "SUCCEEDED" && d.responseStatus === 204);
    }, 10_000, "three successful deliveries in the log");
  });
});
