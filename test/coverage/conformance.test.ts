import { spawn } from "node:child_process";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo } from "../../src/demo/demo-seed.ts";
import { findFreePort } from "../../src/redis/find-redis.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { eventually } from "../helpers/receiver.ts";
import { subscribe } from "../helpers/webhook-fixtures.ts";

const OLD_PATTERN = /^[A-Z]{3}[0-9]{12}$/;

/** A naive partner endpoint: signature checking aside, it only knows the pre-2023 number pattern. */
function naiveReceiver(port: number): http.Server {
  return http
    .createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const event = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const answers = (event.data.items ?? []).map((item: { id: string; number: string }) => ({
          id: item.id,
          classification: OLD_PATTERN.test(item.number) ? "V2017" : "MALFORMED",
        }));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ answers }));
      });
    })
    .listen(port, "127.0.0.1");
}

describe("conformance probe", () => {
  let hub: TestHub;
  let admin: string;
  const children: ReturnType<typeof spawn>[] = [];
  const servers: http.Server[] = [];

  beforeAll(async () => {
    hub = await TestHub.start({}, undefined, { worker: true });
    seedDemo(hub.services, hub.config.dataDir, 50);
    admin = hub.key("ADMIN");
  });
  afterAll(async () => {
    for (const child of children) child.kill();
    for (const server of servers) server.close();
    await hub.close();
  });

  async function probe(partnerId: string) {
    const started = await hub.gql(admin, `mutation { runConformanceProbe(partnerId: "${partnerId}") { id state partnerId } }`);
    expect(started.data.runConformanceProbe).toMatchObject({ state: "RUNNING", partnerId });
    const id = started.data.runConformanceProbe.id;
    let run: any;
    await eventually(async () => {
      run = (await hub.gql(admin, `{ conformanceRun(id: "${id}") { id state finishedAt detail } }`)).data.conformanceRun;
      return run.state !== "RUNNING";
    }, 20_000, "probe graded");
    return run;
  }

  /** A partner subscribed at a free loopback port, where the test then starts its endpoint. */
  async function partnerWithEndpoint() {
    const partner = hub.partnerKey(["CARDS_CHECK", "WEBHOOKS_MANAGE"]);
    const port = await findFreePort();
    const sub = await subscribe(hub, partner.secret, `http://127.0.0.1:${port}/`, ["CARD_REVOKED"]);
    // The demo's lost-and-replaced card: the probe tests it only with partners that watch it.
    expect((await hub.gql(partner.secret, 'mutation { watchCards(numbers: ["932682198501010017"]) }')).errors).toBeUndefined();
    return { ...partner, port, webhookSecret: sub.secret };
  }

  it("passes the README's example receiver, and the partner shows as VERIFIED", async () => {
    const partner = await partnerWithEndpoint();
    let output = "";
    const child = spawn(process.execPath, ["examples/conformance-receiver.js"], {
      env: { ...process.env, WEBHOOK_SECRET: partner.webhookSecret, HUB_URL: hub.api.url, HUB_KEY: partner.secret, PORT: String(partner.port) },
    });
    children.push(child);
    child.stdout!.on("data", (c) => (output += c));
    await eventually(() => output.includes("listening"), 10_000, "receiver start");
    const run = await probe(partner.partnerId);
    expect(run.detail.items.filter((i: any) => !i.ok)).toEqual([]);
    expect(run.state).toBe("PASSED");
    const abouts = run.detail.items.map((i: any) => i.about).join(" | ");
    for (const topic of ["V2017", "check character", "citizen ID", "Hong Kong", "lower-case x", "full-width", "lost card instance"]) expect(abouts).toContain(topic);
    const partners = await hub.gql(admin, "{ partners { id adaptation { conformance level conformanceAt } } }");
    expect(partners.data.partners.find((p: any) => p.id === partner.partnerId).adaptation).toMatchObject({ conformance: "PASSED", level: "VERIFIED" });
  });

  it("fails a naive receiver that only knows the old pattern, item by item", async () => {
    const partner = await partnerWithEndpoint();
    servers.push(naiveReceiver(partner.port));
    const run = await probe(partner.partnerId);
    expect(run.state).toBe("FAILED");
    const wrong = run.detail.items.filter((i: any) => !i.ok).map((i: any) => i.expected);
    expect(wrong).toEqual(expect.arrayContaining(["V2023", "NOT_FPR"]));
    expect(run.detail.items.find((i: any) => i.expected === "V2017").ok).toBe(true);
  });

  it("fails with a reason when there is no endpoint or it does not answer properly", async () => {
    const bare = hub.partnerKey(["CARDS_CHECK"]);
    const none = await probe(bare.partnerId);
    expect(none).toMatchObject({ state: "FAILED", detail: { passed: false, error: expect.stringMatching(/no active webhook subscription/) } });
    const broken = await partnerWithEndpoint();
    servers.push(http.createServer((_req, res) => res.writeHead(200).end("not json")).listen(broken.port, "127.0.0.1"));
    expect((await probe(broken.partnerId)).detail.error).toMatch(/not JSON/);
    expect((await hub.gql(admin, 'mutation { runConformanceProbe(partnerId: "prt_nobody") { id } }')).errors?.[0].extensions.code).toBe("NOT_FOUND");
  });
});
