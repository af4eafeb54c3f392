import { BIN, startChild } from "./lib/proc.ts";
import type { BenchContext, Row } from "./lib/context.ts";
import { createKeys, sharedApi } from "./lib/hub.ts";
import { round, runLoad, sampleNumbers, shuffled, warmUp } from "./lib/load.ts";
import path from "node:path";

export const LOOKUP_QUERY =
  "query($n: String!) { checkCard(number: $n) { result recognized issueCount card { number version state validUntil holderStatus } } }";

/** The register lookups run against (100,000 cards; quick: the small one the import built). */
export const lookupCards = (ctx: BenchContext) => (ctx.quick ? 20_000 : 100_000);

interface PlainServer {
  url: string;
  respond(body: Buffer, contentType: string): Promise<void>;
  alive(): boolean;
  stop(): Promise<void>;
}

/** The plain server, started once per run (it idles until its turn). */
export function sharedPlainServer(ctx: BenchContext): Promise<PlainServer> {
  return ctx.shared("plain-server", () => startPlainServer(ctx), (s) => s.alive(), (s) => s.stop(), true);
}

/** Starts the plain node:http ceiling server in its own process; `respond` sets the bytes it answers. */
async function startPlainServer(ctx: BenchContext): Promise<PlainServer> {
  const script = path.join(path.dirname(BIN), "../test/bench/lib/plain-server.ts");
  const child = startChild("node", [script], {}, { nodeArgs: ["--import", "tsx"] });
  ctx.defer(() => child.stop());
  const match = await child.waitForLine(/listening (http:\/\/\S+)/, 20_000);
  const url = match[1];
  const respond = async (body: Buffer, contentType: string) => {
    const answer = await fetch(`${url}/__response`, { method: "PUT", headers: { "content-type": contentType }, body });
    if (answer.status !== 204) throw new Error(`plain server: ${answer.status}`);
  };
  const alive = () => child.process.exitCode === null && child.process.signalCode === null;
  return { url, respond, alive, stop: () => child.stop() };
}

export async function lookup(ctx: BenchContext): Promise<Row> {
  const cards = lookupCards(ctx);
  const register = await ctx.register(cards);
  const [hub, keys, sampled, plain] = await Promise.all([sharedApi(ctx, register), createKeys(ctx, register), sampleNumbers(register.file, cards, 1000), sharedPlainServer(ctx)]);
  const numbers = shuffled(sampled);
  const seconds = ctx.quick ? 5 : 20;
  const headers = { "content-type": "application/json", authorization: `Bearer ${keys.partners[0]}` };
  const bodies = numbers.map((n) => JSON.stringify({ query: LOOKUP_QUERY, variables: { n } }));
  {
    // One answer, kept as the ceiling's bytes.
    const sample = await fetch(hub.graphql, { method: "POST", headers, body: bodies[0] });
    const sampleBody = Buffer.from(await sample.arrayBuffer());
    if (sample.status !== 200 || sampleBody.includes('"errors"')) throw new Error(`checkCard failed: ${sample.status} ${sampleBody.toString().slice(0, 300)}`);
    const load = { connections: 50, headers, bodies };
    await warmUp({ ...load, url: hub.graphql }, ctx.quick ? 1 : 3);
    ctx.log("lookup: measuring the hub");
    const measured = await runLoad({ ...load, url: hub.graphql, seconds });
    ctx.log("lookup: measuring the plain server");
    await plain.respond(sampleBody, sample.headers.get("content-type") ?? "application/json");
    await warmUp({ ...load, url: plain.url }, ctx.quick ? 0.5 : 2);
    const ceiling = await runLoad({ ...load, url: plain.url, seconds });
    await plain.stop();
    const ratio = measured.rps / ceiling.rps;
    const bad = measured.non2xx + measured.errors;
    return {
      name: "lookup",
      value: round(measured.rps),
      unit: "req/s",
      detail: `p99 ${measured.p99} ms, p50 ${measured.p50} ms`,
      ceiling: round(ceiling.rps),
      ceilingDetail: `p99 ${ceiling.p99} ms`,
      ratio,
      target: "≥ 0.25×; p99 ≤ 10 ms",
      met: ratio >= 0.25 && measured.p99 <= 10 && bad === 0,
      notes: `${cards} cards, ${numbers.length} distinct numbers, 50 connections, ${seconds} s${bad ? `; ${bad} failed requests` : ""}`,
      data: { measured, ceiling, cards, distinctNumbers: numbers.length, responseBytes: sampleBody.length },
    };
  }
}
