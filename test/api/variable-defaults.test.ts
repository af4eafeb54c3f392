/**
 * A variable left to its default value is read as often as one sent (found by an adversarial
 * review: a 90 KB default read 1,000 times in one list literal cost 90 MB of input, uncounted).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestHub } from "../helpers/temp-hub.ts";

async function post(hub: TestHub, secret: string, body: unknown) {
  const started = Date.now();
  const response = await fetch(`${hub.api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const json = (await response.json()) as { errors?: { extensions: { code: string } }[] };
  return { status: response.status, codes: (json.errors ?? []).map((e) => e.extensions.code), ms: Date.now() - started };
}

describe("variables left to their default values", () => {
  let hub: TestHub;
  let partner: string;
  beforeAll(async () => {
    hub = await TestHub.start(); // default rate limits: a partner key may check 120,000 numbers a minute
    partner = hub.partnerKey().secret;
  });
  afterAll(() => hub?.close());

  const big = "9".repeat(90_000);
  const uses = Array(1000).fill("$s").join(",");

  it("sent explicitly, the value is refused", async () => {
    const answer = await post(hub, partner, { query: `query($s: String!) { checkCards(numbers: [${uses}]) { input result } }`, variables: { s: big } });
    expect(answer.codes).toEqual(["QUERY_TOO_COMPLEX"]);
  });

  it("as a default value, the same bytes are refused too", async () => {
    const query = `query($s: String! = "${big}") { checkCards(numbers: [${uses}]) { input result } }`;
    expect(query.length).toBeLessThan(100_000);
    const answers = [];
    for (let round = 0; round < 3; round += 1) answers.push(await post(hub, partner, { query }));
    expect(answers.map((a) => a.codes)).toEqual(answers.map(() => ["QUERY_TOO_COMPLEX"]));
  }, 300_000);
});
