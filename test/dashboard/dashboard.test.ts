import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo, type DemoKeys } from "../../src/demo/demo-seed.ts";
import { undispatchedEvents } from "../../src/events/event-log.store.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

// Browser globals for the functions page.evaluate runs inside the page (the project's lib has no DOM).
declare const document: any, window: any, sessionStorage: any, localStorage: any, getComputedStyle: any;

const ARTIFACTS = path.resolve("test-artifacts");
const BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SHOWCASE_VALID = "932682198501010017";
const CITIZEN_ID = "11010519491231002X";

const DASHBOARD_QUERY = `{
  industry: rolloutCoverage(groupBy: INDUSTRY) { key label partners declared observed verified ratio }
  province: rolloutCoverage(groupBy: PROVINCE) { key label partners declared observed verified ratio }
  total: migrationProgress(groupBy: TOTAL) { activeHolders onV2023 ratio }
  nationality: migrationProgress(groupBy: NATIONALITY) { key activeHolders onV2023 }
  migrationTimeline(weeks: 52) { periodStart activeHolders onV2023 }
  deliveryHealth { subscriptionId partnerName status delivered failed successRatio p50LatencyMs p99LatencyMs breaker }
  partners { id name adaptation { level } }
}`;

const percent = (ratio: number) => `${new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(ratio * 100)}%`;
const num = (text: string) => Number(text.replace(/,/g, ""));

interface ShownRow {
  key: string;
  fields: Record<string, string>;
}

/** Rows of one kind as the page shows them: their key attribute and every data-field cell's text. */
function shownRows(page: Page, testId: string, keyAttribute: string): Promise<ShownRow[]> {
  return page.$$eval(
    `[data-testid="${testId}"]`,
    (rows, attribute) =>
      rows.map((row) => ({
        key: row.getAttribute(attribute) ?? "",
        fields: Object.fromEntries([...row.querySelectorAll("[data-field]")].map((cell) => [cell.getAttribute("data-field"), cell.textContent?.trim() ?? ""])),
      })),
    keyAttribute,
  );
}

const text = (page: Page, testId: string) => page.locator(`[data-testid="${testId}"]`).innerText();

/** A GET with the path sent exactly as written (fetch would normalize "..", http.get does not). */
function rawGet(base: string, rawPath: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    http
      .get({ hostname, port, path: rawPath }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

describe("dashboard in a real browser", { timeout: 120_000 }, () => {
  let hub: TestHub;
  let browser: Browser;
  let demo: DemoKeys;
  let viewer: string;
  let admin: string;
  const receivers: TestReceiver[] = [];
  const contexts: BrowserContext[] = [];
  const pageProblems: string[] = [];

  /** Nothing left in the outbox or on the fan-out and delivery queues. */
  async function isSettled(): Promise<boolean> {
    if (undispatchedEvents(hub.services.db, 1).length > 0) return false;
    const queues = [...Object.values(hub.runtime.queues.fanout), ...Object.values(hub.runtime.queues.deliver)];
    for (const queue of queues) {
      const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children");
      if (Object.values(counts).some((n) => n > 0)) return false;
    }
    return true;
  }

  async function partnerKeyFor(name: string, scopes?: string[]): Promise<string> {
    const partners = (await hub.gql(admin, "{ partners { id name } }")).data.partners as { id: string; name: string }[];
    const partner = partners.find((p) => p.name === name);
    if (!partner) throw new Error(`no demo partner ${name}`);
    return hub.key("PARTNER", { partnerId: partner.id, scopes });
  }

  async function receiver(respond?: TestReceiver["respond"]): Promise<TestReceiver> {
    const r = await TestReceiver.start();
    if (respond) r.respond = respond;
    receivers.push(r);
    return r;
  }

  async function openPage(options: Parameters<Browser["newContext"]>[0] = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce", ...options });
    contexts.push(context);
    const page = await context.newPage();
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e: any) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    page.on("pageerror", (error) => pageProblems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      // A refused key is answered with an HTTP error status, which Chromium logs as a failed load.
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageProblems.push(message.text());
    });
    await page.goto(`${hub.api.url}/dashboard`);
    return page;
  }

  async function signIn(page: Page, key: string): Promise<void> {
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  async function signedInPage(options?: Parameters<Browser["newContext"]>[0]): Promise<Page> {
    const page = await openPage(options);
    await signIn(page, viewer);
    await page.locator('[data-testid="dashboard"][data-state="ready"]').waitFor({ timeout: 30_000 });
    return page;
  }

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    hub = await TestHub.start({}, undefined, { worker: true });
    demo = seedDemo(hub.services, hub.config.dataDir, 400);
    admin = hub.key("ADMIN");
    viewer = hub.key("VIEWER");
    const issuer = hub.key("ISSUER");
    // The seed's own events are fanned out before anyone subscribes, so they reach no one.
    await eventually(isSettled, 60_000, "demo events relayed");

    const airline = await partnerKeyFor("Eastern Sky Airlines", ALL_EVENTS_NO_LINEAGE);
    const bank = await partnerKeyFor("Harbour Commercial Bank", ALL_EVENTS_NO_LINEAGE);
    const ferries = await partnerKeyFor("Pearl River Ferries", ALL_EVENTS_NO_LINEAGE);
    const ok = await receiver();
    const flaky = await receiver(({ attempt }) => ({ status: attempt === 1 ? 503 : 200 }));
    const idle = await receiver();
    ok.secrets = [(await subscribe(hub, airline, ok.url, ["CARD_ISSUED", "CARD_REPORTED_LOST"])).secret];
    flaky.secrets = [(await subscribe(hub, bank, flaky.url, ["CARD_ISSUED", "CARD_REPORTED_LOST"])).secret];
    const paused = await subscribe(hub, ferries, idle.url, ["CARD_REVOKED"]);
    expect((await hub.gql(ferries, `mutation { pauseWebhookSubscription(id: "${paused.id}") { status } }`)).data.pauseWebhookSubscription.status).toBe("PAUSED");

    const numbers = [v2023(1, "1980-02-03"), v2023(2, "1980-02-03"), v2023(3, "1980-02-03")];
    for (const number of numbers) await issue(hub, issuer, number);
    await hub.gql(issuer, `mutation { reportCardLost(number: "${numbers[0]}") { state } }`);
    await ok.waitFor(() => ok.ids().size === 4, 30_000);
    await flaky.waitFor(() => flaky.ids().size === 4, 30_000);

    // One partner observed (it checked an existing V2023 number), one declared READY.
    const hotel = await hub.gql(demo.PARTNER, `{ checkCard(number: "${SHOWCASE_VALID}") { result } }`);
    expect(hotel.data.checkCard.result).toBe("VALID");
    hub.services.audit.flush();
    const rail = await partnerKeyFor("Capital Rail Ticketing");
    expect((await hub.gql(rail, "mutation { declareAdaptation(state: READY) { adaptation { level } } }")).data.declareAdaptation.adaptation.level).toBe("DECLARED");

    await eventually(isSettled, 30_000, "deliveries finished");
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: BROWSER_ARGS });
  }, 120_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await hub?.close();
    await Promise.all(receivers.map((r) => r.close()));
  }, 60_000);

  it("serves the page and its assets from the hub with a strict CSP; nothing else", async () => {
    const page = await fetch(`${hub.api.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy") ?? "";
    for (const directive of ["default-src 'self'", "connect-src 'self'", "img-src 'self' data:", "style-src 'self'", "script-src 'self'"]) {
      expect(csp.split("; ")).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe|https?:/);
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)|\sstyle=|\son\w+=|https?:\/\//);

    const chart = await fetch(`${hub.api.url}/dashboard/chart.js`);
    expect(chart.status).toBe(200);
    expect(chart.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(chart.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect(await chart.text()).toContain("Chart.js v4");
    const css = await fetch(`${hub.api.url}/dashboard/app.css`);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(css.headers.get("cache-control")).toBe("no-cache");
    const etag = css.headers.get("etag") ?? "";
    expect((await fetch(`${hub.api.url}/dashboard/app.css`, { headers: { "if-none-match": etag } })).status).toBe(304);
    const head = await fetch(`${hub.api.url}/dashboard/app.js`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBeGreaterThan(0);
    expect(await head.text()).toBe("");

    for (const name of ["nope.js", "../../package.json", "..%2F..%2Fpackage.json", "../hub.ts", "%2e%2e/dashboard-routes.ts", "/etc/passwd", "__proto__", "constructor", "assets/app.js", "index.html", "app.js/"]) {
      const answer = await rawGet(hub.api.url, `/dashboard/${name}`);
      expect(answer.status, name).toBe(404);
      expect(JSON.parse(answer.body).errors[0].extensions.code).toBe("NOT_FOUND");
    }
    const post = await fetch(`${hub.api.url}/dashboard`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("shows the same figures as GraphQL, in tables and in the charts (laptop)", async () => {
    const expected = (await hub.gql(viewer, DASHBOARD_QUERY)).data;
    const page = await signedInPage();
    expect(page.url()).toBe(`${hub.api.url}/dashboard`);
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length, document.cookie])).toEqual([1, 0, ""]);

    const total = expected.total[0];
    expect(total.activeHolders).toBeGreaterThan(0);
    expect(num(await text(page, "total-active"))).toBe(total.activeHolders);
    expect(num(await text(page, "total-onv2023"))).toBe(total.onV2023);
    expect(await text(page, "total-ratio")).toBe(percent(total.ratio));
    expect(num(await text(page, "partners-count"))).toBe(expected.partners.length);

    for (const [group, testId] of [["industry", "coverage-industry-row"], ["province", "coverage-province-row"]] as const) {
      const shown = await shownRows(page, testId, "data-key");
      expect(shown.map((r) => r.key)).toEqual(expected[group].map((r: any) => r.key));
      for (const [i, row] of (expected[group] as any[]).entries()) {
        const cells = shown[i].fields;
        expect(cells.label).toBe(row.label);
        const counts = { partners: row.partners, verified: row.verified, observed: row.observed, declared: row.declared, none: row.partners - row.declared - row.observed - row.verified };
        expect(Object.fromEntries(Object.keys(counts).map((k) => [k, num(cells[k])])), `${group} ${row.key}`).toEqual(counts);
        expect(cells.ratio).toBe(percent(row.ratio));
      }
    }
    const industrySums = (expected.industry as any[]).reduce((s, r) => ({ observed: s.observed + r.observed, declared: s.declared + r.declared }), { observed: 0, declared: 0 });
    expect(industrySums).toEqual({ observed: 1, declared: 1 });
    expect(num(await text(page, "partners-evidence"))).toBe(1);

    const health = await shownRows(page, "health-row", "data-subscription");
    expect(health.map((r) => r.key)).toEqual(expected.deliveryHealth.map((r: any) => r.subscriptionId));
    expect(expected.deliveryHealth.map((r: any) => [r.partnerName, r.status, r.delivered, r.failed])).toEqual([
      ["Eastern Sky Airlines", "ACTIVE", 4, 0],
      ["Harbour Commercial Bank", "ACTIVE", 4, 0],
      ["Pearl River Ferries", "PAUSED", 0, 0],
    ]);
    for (const [i, row] of (expected.deliveryHealth as any[]).entries()) {
      const cells = health[i].fields;
      expect([cells.status, cells.breaker, num(cells.delivered), num(cells.failed)]).toEqual([row.status, row.breaker, row.delivered, row.failed]);
      expect(cells.successRatio).toBe(row.delivered + row.failed === 0 ? "—" : percent(row.successRatio));
      expect(cells.p50LatencyMs === "—").toBe(row.p50LatencyMs === null);
      expect(cells.p99LatencyMs === "—").toBe(row.p99LatencyMs === null);
    }

    const partners = await shownRows(page, "partner-row", "data-id");
    expect(partners.map((r) => [r.key, r.fields.name, r.fields.level])).toEqual(expected.partners.map((p: any) => [p.id, p.name, p.adaptation.level]));

    const weeks = await shownRows(page, "timeline-row", "data-week");
    expect(weeks.map((r) => [r.key, num(r.fields.activeHolders), num(r.fields.onV2023)])).toEqual(
      expected.migrationTimeline.map((p: any) => [p.periodStart, p.activeHolders, p.onV2023]),
    );
    const nationalities = await shownRows(page, "nationality-row", "data-key");
    expect(nationalities.map((r) => [r.key, num(r.fields.activeHolders), num(r.fields.onV2023)])).toEqual(
      expected.nationality.slice(0, 10).map((r: any) => [r.key, r.activeHolders, r.onV2023]),
    );

    // What the charts draw is the same data.
    const drawn = await page.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll("[data-chart]")].map((box: any) => {
          const chart = (window as any).Chart.getChart(box.querySelector("canvas"));
          return [box.dataset.chart, { labels: chart.data.labels, data: chart.data.datasets.map((d: any) => [d.label, d.data]) }];
        }),
      ),
    );
    for (const group of ["industry", "province"] as const) {
      const rows = expected[group] as any[];
      expect(drawn[group].labels).toEqual(rows.map((r) => r.label));
      expect(drawn[group].data).toEqual([
        ["Verified", rows.map((r) => r.verified)],
        ["Observed", rows.map((r) => r.observed)],
        ["Declared", rows.map((r) => r.declared)],
        ["None", rows.map((r) => r.partners - r.declared - r.observed - r.verified)],
      ]);
    }
    expect(drawn.timeline.data[0][1]).toEqual(
      expected.migrationTimeline.map((p: any) => (p.activeHolders > 0 ? Math.round((p.onV2023 / p.activeHolders) * 1000) / 10 : null)),
    );

    // The card check, then the screenshot with its answer on it.
    await page.getByTestId("check-input").fill(SHOWCASE_VALID);
    await page.getByTestId("check-submit").click();
    const result = page.locator(`[data-testid="check-result"][data-number="${SHOWCASE_VALID}"][data-result]`);
    await result.waitFor();
    const card = (await hub.gql(viewer, `{ checkCard(number: "${SHOWCASE_VALID}") { result recognized card { version validFrom validUntil holderStatus } } }`)).data.checkCard;
    expect(card).toMatchObject({ result: "VALID", recognized: true });
    expect(await text(page, "check-result-code")).toBe(card.result);
    expect(await text(page, "check-recognized")).toBe("Yes");
    expect(await text(page, "check-version")).toBe(card.card.version);
    expect(await text(page, "check-validity")).toBe(`${card.card.validFrom} to ${card.card.validUntil}`);
    expect(await text(page, "check-holder-status")).toBe(card.card.holderStatus);
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-laptop.png"), fullPage: true });

    await page.getByTestId("check-input").fill(CITIZEN_ID);
    await page.getByTestId("check-submit").click();
    await page.locator(`[data-testid="check-result"][data-number="${CITIZEN_ID}"][data-result]`).waitFor();
    const parsed = (await hub.gql(viewer, `{ parseCardNumber(number: "${CITIZEN_ID}") { errors { code message } } }`)).data.parseCardNumber;
    expect(parsed.errors.map((e: any) => e.code)).toContain("NOT_FOREIGNER_NUMBER");
    expect(await text(page, "check-result-code")).toBe("MALFORMED");
    expect(await text(page, "check-recognized")).toBe("No");
    const shownErrors = await page.$$eval('[data-testid="check-errors"] li', (items) => items.map((li) => [li.getAttribute("data-code"), li.textContent]));
    expect(shownErrors.map(([code]) => code)).toEqual(parsed.errors.map((e: any) => e.code));
    expect(shownErrors[0][1]).toContain(parsed.errors[0].message);

    await page.getByTestId("sign-out").click();
    await page.getByTestId("signin").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.getByTestId("dashboard").isHidden()).toBe(true);
    expect(await page.getByTestId("check-result").isHidden()).toBe(true);
  });

  it("says so, in words, when a key is unknown or is not allowed", async () => {
    const page = await openPage();
    await signIn(page, "fpr_not_a_real_key_0000000000000000");
    const error = page.getByTestId("signin-error");
    await error.waitFor();
    expect(await error.innerText()).toMatch(/not accepted.*unknown or has been revoked/);
    expect(await error.innerText()).not.toMatch(/[{}"]/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    await signIn(page, demo.PARTNER);
    await page.locator('[data-testid="signin-error"]', { hasText: "Not allowed" }).waitFor();
    expect(await error.innerText()).toBe("Not allowed: a PARTNER key cannot see this. The dashboard needs an ADMIN or VIEWER key.");
    expect(await page.getByTestId("dashboard").isHidden()).toBe(true);
    expect(page.url()).toBe(`${hub.api.url}/dashboard`);
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-signin-refused.png") });
  });

  it("fits a phone screen without scrolling sideways", async () => {
    const page = await signedInPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      columns: getComputedStyle(document.querySelector(".grid")!).gridTemplateColumns.split(" ").length,
      widest: Math.max(...[...document.querySelectorAll(".panel, .stat")].map((e: any) => e.getBoundingClientRect().right)),
    }));
    expect(layout.innerWidth).toBe(390);
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
    expect(layout.columns).toBe(1);
    expect(layout.widest).toBeLessThanOrEqual(390);
    await page.getByTestId("check-input").fill(SHOWCASE_VALID);
    await page.getByTestId("check-submit").click();
    await page.locator(`[data-testid="check-result"][data-result="VALID"]`).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-phone.png"), fullPage: true });
  });

  it("ran without script errors or CSP violations", () => {
    expect(pageProblems).toEqual([]);
  });
});
