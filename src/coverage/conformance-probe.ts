import crypto from "node:crypto";
import { Webhook } from "standardwebhooks";
import type { HubDb } from "../db/client.ts";
import { HubError } from "../errors.ts";
import { postPinned } from "../webhooks/pinned-post.ts";
import type { SubscriptionService } from "../webhooks/subscription-service.ts";
import { resolveDeliverableUrl, type UrlPolicy } from "../webhooks/url-safety.ts";
import { ConformanceStore, type ConformanceRunRow } from "./conformance.store.ts";
import { probeItems, type ProbeItem } from "./probe-items.ts";

export interface ConformanceRunView extends Omit<ConformanceRunRow, "detail"> {
  detail: Record<string, unknown> | null;
}

function toRunView(row: ConformanceRunRow): ConformanceRunView {
  return { ...row, detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : null };
}

const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * The conformance probe: a signed `conformance.probe` event listing synthetic numbers goes to
 * the partner's webhook endpoint; its system answers with a classification of each; the hub
 * grades the answers PASSED or FAILED, item by item.
 */
export class ConformanceProbe {
  private readonly store: ConformanceStore;

  constructor(
    db: HubDb,
    private readonly subscriptions: SubscriptionService,
    private readonly policy: UrlPolicy,
    private readonly settings: { sourceUri: string; timeoutMs: number },
    private readonly now: () => Date = () => new Date(),
  ) {
    this.store = new ConformanceStore(db);
  }

  /** Records a RUNNING run; the caller queues it for the worker. */
  start(partnerId: string): ConformanceRunView {
    if (!this.store.partnerExists(partnerId)) {
      throw new HubError("NOT_FOUND", `partner ${partnerId} does not exist`);
    }
    const startedAt = this.now().toISOString();
    return toRunView(this.store.startRun(`run_${crypto.randomBytes(9).toString("base64url")}`, partnerId, startedAt));
  }

  get(id: string): ConformanceRunView | null {
    const row = this.store.run(id);
    return row ? toRunView(row) : null;
  }

  /** Sends the probe and grades the answer; always ends the run PASSED or FAILED. */
  async run(runId: string): Promise<ConformanceRunView> {
    const run = this.store.run(runId);
    if (!run || run.state !== "RUNNING") return run ? toRunView(run) : (null as never);
    // The lost instance must be a card the probed partner watches: the probe sends the number to the
    // partner's endpoint, and a card it does not watch would tell it the card exists and was lost.
    const items = probeItems(this.store.lostInstance(run.partnerId) ?? null);
    let detail: Record<string, unknown>;
    try {
      detail = await this.probe(run, items);
    } catch (error) {
      detail = { passed: false, error: error instanceof Error ? error.message : String(error), items: items.map(({ id, about, expected }) => ({ id, about, expected, got: null, ok: false })) };
    }
    return this.finish(run, detail);
  }

  private async probe(run: ConformanceRunRow, items: ProbeItem[]): Promise<Record<string, unknown>> {
    const subscription = this.subscriptions.firstActiveOf(run.partnerId);
    if (!subscription) throw new Error("the partner has no active webhook subscription to probe");
    const body = JSON.stringify({
      specversion: "1.0",
      id: run.id,
      source: this.settings.sourceUri,
      type: "conformance.probe",
      time: this.now().toISOString(),
      datacontenttype: "application/json",
      data: { runId: run.id, respondWith: '{"answers":[{"id":"p1","classification":"V2023|V2017|MALFORMED|NOT_FPR|REJECTED"}]}', items: items.map(({ id, number, issueCount }) => ({ id, number, ...(issueCount === undefined ? {} : { issueCount }) })) },
    });
    const at = this.now();
    const signature = this.subscriptions.signingSecrets(subscription).map((secret) => new Webhook(secret).sign(run.id, at, body)).join(" ");
    const target = await resolveDeliverableUrl(subscription.url, this.policy);
    const result = await postPinned(target, {
      headers: { "content-type": "application/cloudevents+json", "webhook-id": run.id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signature },
      body,
      timeoutMs: this.settings.timeoutMs,
      maxResponseBytes: MAX_ANSWER_BYTES,
      keepBody: true,
    });
    if (result.status < 200 || result.status >= 300) throw new Error(`the endpoint answered HTTP ${result.status}`);
    return grade(items, result.body ?? "", subscription.url);
  }

  private finish(run: ConformanceRunRow, detail: Record<string, unknown>): ConformanceRunView {
    const state = detail.passed ? "PASSED" : "FAILED";
    return toRunView(this.store.finishRun(run, state, this.now().toISOString(), JSON.stringify(detail)));
  }
}

/** Compares the partner's answers with the expected classes, item by item. */
function grade(items: ProbeItem[], answerText: string, url: string): Record<string, unknown> {
  let answers = new Map<string, string>();
  let error: string | null = null;
  try {
    const parsed = JSON.parse(answerText) as { answers?: { id?: unknown; classification?: unknown }[] };
    answers = new Map((parsed.answers ?? []).map((a) => [String(a.id), String(a.classification)]));
  } catch {
    error = "the answer is not JSON of the form {\"answers\": [{\"id\": …, \"classification\": …}]}";
  }
  const graded = items.map(({ id, number, issueCount, about, expected }) => {
    const got = answers.get(id) ?? null;
    return { id, number, ...(issueCount === undefined ? {} : { issueCount }), about, expected, got, ok: got === expected };
  });
  return { passed: error === null && graded.every((item) => item.ok), endpoint: new URL(url).host, ...(error ? { error } : {}), items: graded };
}
