import crypto from "node:crypto";
import type { AdaptationState } from "../partners/partner-service.ts";
import type { DemoServices } from "./demo-seed.ts";
import { inSeedTransaction, insertConformanceRun, insertDelivery, insertSubscription, latestEvents, setPartnerEvidence } from "./demo.store.ts";

/** Demo partners' rollout evidence: what each has declared, been seen doing, or passed. */
const EVIDENCE: Record<string, { declared?: AdaptationState; observedDaysAgo?: number; probePassed?: boolean; history?: "healthy" | "flaky" }> = {
  "Lakeside Hotels Group": { declared: "READY", observedDaysAgo: 1, probePassed: true, history: "healthy" },
  "Capital Rail Ticketing": { declared: "READY", observedDaysAgo: 3 },
  "Eastern Sky Airlines": { declared: "READY" },
  "Pearl River Ferries": { declared: "IN_PROGRESS" },
  "Harbour Commercial Bank": { declared: "READY", observedDaysAgo: 2, probePassed: true, history: "healthy" },
  "QuickPay Wallet": { declared: "IN_PROGRESS", observedDaysAgo: 5, history: "flaky" },
  "Marketplace Online": { declared: "READY" },
};

const HISTORY_EVENTS = 150;

/**
 * Gives the demo register something to show on the dashboard: adaptation evidence for the demo
 * partners, and a delivery history for three of them. The demo subscriptions are PAUSED (their
 * endpoints do not exist) so the worker never sends to them; their history is illustrative.
 */
export function seedDemoEvidence(services: DemoServices): void {
  const now = services.register.now().getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const events = latestEvents(services.db, HISTORY_EVENTS);
  inSeedTransaction(services.db, () => {
    for (const partner of services.partners.list()) {
      const evidence = EVIDENCE[partner.name];
      if (!evidence) continue;
      setPartnerEvidence(services.db, partner.id, {
        declaredAdaptation: evidence.declared ?? "NOT_STARTED",
        declaredAt: evidence.declared ? iso(now - 20 * 86_400_000) : null,
        lastV2023CheckAt: evidence.observedDaysAgo === undefined ? null : iso(now - evidence.observedDaysAgo * 86_400_000),
        conformance: evidence.probePassed ? "PASSED" : "NOT_RUN",
        conformanceAt: evidence.probePassed ? iso(now - 7 * 86_400_000) : null,
      });
      if (evidence.probePassed) {
        const at = iso(now - 7 * 86_400_000);
        insertConformanceRun(services.db, { id: `run_${crypto.randomBytes(9).toString("base64url")}`, partnerId: partner.id, state: "PASSED", startedAt: at, finishedAt: at, detail: JSON.stringify({ passed: true, demo: true }) });
      }
      if (evidence.history) seedHistory(services, partner.id, partner.name, evidence.history, events);
    }
  });
}

function seedHistory(services: DemoServices, partnerId: string, name: string, kind: "healthy" | "flaky", events: { sequence: number; at: string }[]): void {
  const key = services.apiKeys.create({ role: "PARTNER", partnerId, scopes: ["CARDS_CHECK", "EVENTS_ALL", "WEBHOOKS_MANAGE"] });
  const host = name.toLowerCase().replace(/[^a-z]+/g, "-").replace(/^-|-$/g, "");
  const subscriptionId = `sub_demo_${host.slice(0, 12)}`;
  insertSubscription(services.db, {
    id: subscriptionId,
    partnerId,
    keyId: key.apiKey.id,
    url: `https://hooks.${host}.example/fpr`,
    eventTypes: "CARD_ISSUED,CARD_SUPERSEDED,CARD_REPORTED_LOST,CARD_REVOKED,CARD_EXPIRED,HOLDER_STATUS_CHANGED",
    status: "PAUSED",
    secretSealed: "demo",
    createdAt: events.at(-1)?.at ?? new Date().toISOString(),
  });
  for (const event of events) {
    const base = Date.parse(event.at);
    // Deterministic spread: most answer in tens of milliseconds, a few slowly, some fail first.
    const latency = 25 + ((event.sequence * 37) % (kind === "healthy" ? 120 : 900));
    const row = { subscriptionId, eventId: `evt_${event.sequence}`, sequence: event.sequence, eventTime: event.at, createdAt: event.at };
    const fails = kind === "flaky" ? event.sequence % 6 === 0 : event.sequence % 40 === 0;
    if (fails) insertDelivery(services.db, { ...row, attempt: 1, status: "FAILED", responseStatus: 503, latencyMs: 30, error: "HTTP 503" });
    const dead = kind === "flaky" && event.sequence % 30 === 0;
    insertDelivery(services.db, {
      ...row,
      attempt: fails ? 2 : 1,
      status: dead ? "DEAD" : "SUCCEEDED",
      responseStatus: dead ? 500 : 204,
      latencyMs: Math.min(latency, 400),
      error: dead ? "HTTP 500" : null,
      deliveredAt: dead ? null : new Date(base + latency + (fails ? 5_000 : 0)).toISOString(),
    });
  }
}
