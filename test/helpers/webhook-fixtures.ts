import { makeV2023Number } from "../../src/card-numbers/card-number-generator.ts";
import type { TestHub } from "./temp-hub.ts";

/** The n-th of a family of valid V2023 numbers (Beijing, Canada, 1979-04-12). */
export function v2023(n: number, birthDate = "1979-04-12"): string {
  return makeV2023Number({ provinceCode: "11", nationalityNumeric: "124", birthDate, sequence: n });
}

export async function issue(hub: TestHub, issuer: string, number: string, extra: Record<string, unknown> = {}): Promise<void> {
  const answer = await hub.gql(issuer, "mutation($input: IssueCardInput!) { issueCard(input: $input) { number } }", {
    input: { number, validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "TEST, HOLDER", ...extra },
  });
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
}

export async function subscribe(hub: TestHub, partner: string, url: string, eventTypes: string[]): Promise<{ id: string; secret: string }> {
  const answer = await hub.gql(
    partner,
    "mutation($url: String!, $types: [EventType!]!) { createWebhookSubscription(url: $url, eventTypes: $types) { subscription { id status } secret } }",
    { url, types: eventTypes },
  );
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  return { id: answer.data.createWebhookSubscription.subscription.id, secret: answer.data.createWebhookSubscription.secret };
}

export const ALL_SCOPES = ["CARDS_CHECK", "HOLDERS_VERIFY", "LINEAGE_READ", "EVENTS_ALL", "WEBHOOKS_MANAGE"];
export const ALL_EVENTS_NO_LINEAGE = ["CARDS_CHECK", "EVENTS_ALL", "WEBHOOKS_MANAGE"];
export const WATCHER = ["CARDS_CHECK", "WEBHOOKS_MANAGE"];
