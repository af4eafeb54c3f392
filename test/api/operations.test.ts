import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HUB_QUEUES, QUEUE_NAMES } from "../../jobs/queues.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { TestReceiver } from "../helpers/receiver.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

describe("operations: metrics and the queue board", () => {
  let hub: TestHub;
  let receiver: TestReceiver;
  beforeAll(async () => {
    hub = await TestHub.start({}, undefined, { worker: true });
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await hub.close();
  });

  const metric = (text: string, line: string) => Number(new RegExp(`^${line.replace(/[{}"\\]/g, (c) => `\\${c}`)} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);

  it("exposes checks, verifications, deliveries with latency, backlog, queue depths and coverage gauges", async () => {
    const issuer = hub.key("ISSUER");
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    receiver.secrets = [(await subscribe(hub, partner.secret, receiver.url, ["CARD_ISSUED"])).secret];
    await issue(hub, issuer, v2023(1), { englishName: "METRICS, TEST" });
    await hub.gql(partner.secret, `{ checkCards(numbers: ["${v2023(1)}", "${v2023(2)}", "bad"]) { result } }`);
    await hub.gql(hub.key("ADMIN"), `{ verifyHolder(input: { number: "${v2023(1)}", englishName: "test metrics" }) { result } }`);
    await receiver.waitFor(() => receiver.received.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    const response = await fetch(`${hub.api.url}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await response.text();
    expect(metric(text, 'fpr_hub_card_checks_total{version="V2023",result="VALID"}')).toBe(1);
    expect(metric(text, 'fpr_hub_card_checks_total{version="V2023",result="NOT_FOUND"}')).toBe(1);
    expect(metric(text, 'fpr_hub_card_checks_total{version="NONE",result="MALFORMED"}')).toBe(1);
    expect(metric(text, 'fpr_hub_verifications_total{result="MATCH"}')).toBe(1);
    expect(metric(text, 'fpr_hub_webhook_deliveries_total{outcome="SUCCEEDED"}')).toBe(1);
    expect(metric(text, "fpr_hub_webhook_delivery_latency_seconds_count")).toBe(1);
    expect(metric(text, "fpr_hub_outbox_backlog")).toBe(0);
    expect(text).toMatch(/^fpr_hub_queue_jobs\{queue="webhooks\.deliver",state="waiting"\} \d+$/m);
    // Every queue of the registry is counted, the maintenance queue included.
    expect(text).toMatch(/^fpr_hub_queue_jobs\{queue="hub\.maintenance",state="waiting"\} \d+$/m);
    for (const queue of HUB_QUEUES) expect(metric(text, `fpr_hub_queue_jobs{queue="${queue}",state="failed"}`), queue).toBeGreaterThanOrEqual(0);
    expect(metric(text, 'fpr_hub_holders{card="V2023"}')).toBe(1);
    expect(metric(text, 'fpr_hub_partners{level="OBSERVED"}')).toBe(1);
    expect(text).not.toMatch(/METRICS/i);
    expect(text).not.toContain(partner.secret);
  });

  it("serves Bull Board to ADMIN keys only (Bearer, or Basic with the key as password)", async () => {
    const url = `${hub.api.url}/admin/queues`;
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    const basic = (key: string) => `Basic ${Buffer.from(`admin:${key}`).toString("base64")}`;
    expect((await fetch(url, { headers: { authorization: basic(hub.key("VIEWER")) } })).status).toBe(403);
    const page = await fetch(url, { headers: { authorization: basic(hub.key("ADMIN")) } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const api = await fetch(`${url}/api/queues`, { headers: { authorization: `Bearer ${hub.key("ADMIN")}` } });
    expect(api.status).toBe(200);
    const names = ((await api.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(["webhooks.deliver", "webhooks.deliver-urgent", "imports.run"]));
    // Every queue of the registry is on the board, the maintenance queue included, and no other.
    expect(names).toContain(QUEUE_NAMES.maintenance);
    expect([...names].sort()).toEqual([...HUB_QUEUES].sort());
  });
});
