import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo } from "../../src/demo/demo-seed.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { TestReceiver } from "../helpers/receiver.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

describe("rollout figures", () => {
  let hub: TestHub;
  let viewer: string;
  const sql = <T>(query: string) => hub.services.db.$client.prepare(query).all() as T[];

  beforeAll(async () => {
    hub = await TestHub.start({}, undefined, { worker: true });
    seedDemo(hub.services, hub.config.dataDir, 600);
    viewer = hub.key("VIEWER");
  });
  afterAll(() => hub.close());

  it("counts active holders and V2023 holders, in total and per province and nationality", async () => {
    const answer = await hub.gql(viewer, "{ t: migrationProgress(groupBy: TOTAL) { key activeHolders onV2023 ratio } p: migrationProgress(groupBy: PROVINCE) { key label activeHolders onV2023 } n: migrationProgress(groupBy: NATIONALITY) { key label activeHolders onV2023 } }");
    // Computed independently from the cards: a holder is on V2023 when their current number is one.
    const [expected] = sql<{ active: number; v2023: number }>("SELECT count(*) AS active, sum(substr(current_number, 1, 1) = '9') AS v2023 FROM holders WHERE status = 'ACTIVE'");
    const [total] = answer.data.t;
    expect(total).toMatchObject({ key: "TOTAL", activeHolders: expected.active, onV2023: expected.v2023 });
    expect(total.ratio).toBeCloseTo(expected.v2023 / expected.active, 3);
    const sum = (rows: any[], field: string) => rows.reduce((s, r) => s + r[field], 0);
    for (const rows of [answer.data.p, answer.data.n]) {
      expect(sum(rows, "activeHolders")).toBe(expected.active);
      expect(sum(rows, "onV2023")).toBe(expected.v2023);
    }
    const beijing = sql<{ n: number }>(`SELECT count(*) AS n FROM holders h JOIN cards c ON c.number = h.current_number WHERE h.status = 'ACTIVE' AND c.province_code = '11' AND c.issue_count = (SELECT max(issue_count) FROM cards WHERE number = c.number)`)[0].n;
    expect(answer.data.p.find((r: any) => r.key === "11")).toMatchObject({ label: "Beijing", activeHolders: beijing });
    expect(answer.data.n.find((r: any) => r.key === "410")?.label).toBe("South Korea");
  });

  it("gives a weekly timeline that ends at today's figures and never decreases without a reason", async () => {
    const answer = await hub.gql(viewer, "{ migrationTimeline(weeks: 200) { periodStart activeHolders onV2023 } migrationProgress(groupBy: TOTAL) { activeHolders onV2023 } }");
    const points = answer.data.migrationTimeline;
    expect(points).toHaveLength(200);
    expect(new Date(`${points[0].periodStart}T00:00:00Z`).getUTCDay()).toBe(1);
    const last = points.at(-1);
    expect(last).toMatchObject(answer.data.migrationProgress[0]);
    const launch = points.findIndex((p: any) => p.periodStart >= "2023-11-27");
    expect(points[launch - 2].onV2023).toBe(0);
    // The demo's holders whose residence ended, ended this week (when it was seeded): before
    // that, switches only add up.
    expect(points.slice(launch, -1).every((p: any, i: number, all: any[]) => i === 0 || p.onV2023 >= all[i - 1].onV2023)).toBe(true);
    expect(points.at(-2).activeHolders).toBeGreaterThan(last.activeHolders);
    expect((await hub.gql(viewer, "{ migrationTimeline(weeks: 0) { periodStart } }")).errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("counts partners once each, at their strongest evidence, per industry and province", async () => {
    const declaring = hub.partnerKey();
    await hub.gql(declaring.secret, "mutation { declareAdaptation(state: READY) { adaptation { declared level } } }");
    const observing = hub.partnerKey();
    await hub.gql(observing.secret, '{ checkCard(number: "911124198108030024") { result } }');
    hub.services.audit.flush();
    const answer = await hub.gql(viewer, "{ i: rolloutCoverage(groupBy: INDUSTRY) { key label partners declared observed verified ratio } p: rolloutCoverage(groupBy: PROVINCE) { key partners declared observed verified } partners { id adaptation { level } } }");
    const levels = answer.data.partners.map((p: any) => p.adaptation.level);
    const count = (level: string) => levels.filter((l: string) => l === level).length;
    for (const rows of [answer.data.i, answer.data.p]) {
      const sum = (field: string) => rows.reduce((s: number, r: any) => s + r[field], 0);
      expect(sum("partners")).toBe(levels.length);
      expect(sum("declared")).toBe(count("DECLARED"));
      expect(sum("observed")).toBe(count("OBSERVED"));
      expect(sum("verified")).toBe(count("VERIFIED"));
    }
    expect(count("DECLARED")).toBeGreaterThanOrEqual(1);
    expect(count("OBSERVED")).toBeGreaterThanOrEqual(1);
    const lodging = answer.data.i.find((r: any) => r.key === "ACCOMMODATION");
    expect(lodging).toMatchObject({ label: "Accommodation" });
    expect(lodging.ratio).toBeCloseTo((lodging.observed + lodging.verified) / lodging.partners, 3);
  });

  it("reports delivery health per subscription from the delivery log", async () => {
    const receiver = await TestReceiver.start();
    try {
      let calls = 0;
      receiver.respond = ({ attempt }) => (++calls, attempt === 1 ? { status: 503 } : { status: 204 });
      const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
      const sub = await subscribe(hub, partner.secret, receiver.url, ["CARD_ISSUED"]);
      const ours = Array.from({ length: 6 }, (_, i) => v2023(500 + i));
      for (const number of ours) await issue(hub, hub.key("ISSUER"), number);
      await receiver.waitFor(() => ours.every((n) => receiver.received.some((r) => r.event.subject === n)));
      // Demo events still fanning out may reach this subscription too: wait until it is quiet.
      for (let seen = -1; seen !== calls; ) {
        seen = calls;
        await new Promise((r) => setTimeout(r, 400));
      }
      const [row] = (await hub.gql(viewer, "{ deliveryHealth { subscriptionId partnerName status delivered failed successRatio p50LatencyMs p99LatencyMs owed breaker parkedUntil } }")).data.deliveryHealth.filter(
        (r: any) => r.subscriptionId === sub.id,
      );
      // Counted in events, not attempts: an event retried into success counts once, as delivered.
      const delivered = receiver.ids().size;
      const attempted = receiver.attempts.size;
      expect(delivered).toBe(attempted);
      expect(calls).toBe(2 * attempted);
      // Everything delivered: nothing owed, and the breaker (one failure per event, each followed by a success) closed.
      expect(row).toMatchObject({ partnerName: "Test Hotel", status: "ACTIVE", delivered, failed: 0, successRatio: 1, owed: 0, breaker: "CLOSED", parkedUntil: null });
      const gone = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
      const dead = await TestReceiver.start();
      dead.respond = () => ({ status: 400 });
      const deadSub = await subscribe(hub, gone.secret, dead.url, ["CARD_REVOKED"]);
      await hub.gql(hub.key("ISSUER"), `mutation { revokeCard(number: "${ours[0]}", reason: "x") { state } }`);
      await dead.waitFor(() => dead.attempts.size === 1);
      await new Promise((r) => setTimeout(r, 200));
      const health = (await hub.gql(viewer, "{ deliveryHealth { subscriptionId delivered failed successRatio p50LatencyMs owed breaker } }")).data.deliveryHealth;
      expect(health.find((r: any) => r.subscriptionId === deadSub.id)).toEqual({
        subscriptionId: deadSub.id,
        delivered: 0,
        failed: 1,
        successRatio: 0,
        p50LatencyMs: null,
        // A 400 gives up at once: dead, so no longer owed; one failure does not park the endpoint.
        owed: 0,
        breaker: "CLOSED",
      });
      await dead.close();
      expect(row.p50LatencyMs).toBeGreaterThanOrEqual(0);
      expect(row.p99LatencyMs).toBeGreaterThanOrEqual(row.p50LatencyMs);
    } finally {
      await receiver.close();
    }
  });
});
