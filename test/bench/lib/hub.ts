import { BIN, cli, hubNodeArgs, startChild, type Child } from "./proc.ts";
import type { BenchContext, Register } from "./context.ts";
import { waitUntilIdle } from "./settle.ts";

export interface RunningHub {
  url: string;
  alive(): boolean;
  graphql: string;
  child: Child;
  stop(): Promise<void>;
}

/** Starts `fpr-hub api|worker|start` as a child on PORT=0 and reads its URL from the banner. */
export async function startHub(ctx: BenchContext, role: "api" | "start", dataDir: string, extra: Record<string, string> = {}, nodeArgs: string[] = hubNodeArgs()): Promise<RunningHub> {
  const child = startChild("node", [BIN, role], ctx.hubEnv(dataDir, extra), { nodeArgs });
  ctx.defer(() => child.stop());
  try {
    const match = await child.waitForLine(/GraphQL\s+(http:\/\/\S+)\/graphql/, 60_000);
    ctx.log(`fpr-hub ${role} (pid ${child.pid}) listening at ${match[1]}`);
    const alive = () => child.process.exitCode === null && child.process.signalCode === null;
    return { url: match[1], graphql: `${match[1]}/graphql`, child, alive, stop: () => child.stop() };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

export interface Keys {
  partnerIds: string[];
  /** One PARTNER key per partner (CARDS_CHECK, EVENTS_ALL, WEBHOOKS_MANAGE). */
  partners: string[];
  issuer: string;
}

const lastLine = (text: string) => text.trim().split("\n").pop()!.trim();

/** Ensures `partners` partners with a key each, and an ISSUER key, through the command line (kept on the register). */
export async function createKeys(ctx: BenchContext, register: Register, partners = 1): Promise<Keys> {
  const env = ctx.hubEnv(register.dataDir);
  const keys = register.keys ?? { partnerIds: [], partners: [], issuer: "" };
  const issuer = keys.issuer ? Promise.resolve(keys.issuer) : cli(["key", "create", "--role", "ISSUER"], env).then(lastLine);
  // Partners in parallel (SQLite serializes the writes: WAL and a busy timeout).
  const missing = Array.from({ length: Math.max(0, partners - keys.partnerIds.length) }, (_, i) => keys.partnerIds.length + i);
  const [issuerSecret, ...created] = await Promise.all([
    issuer,
    ...missing.map(async (i) => {
      const id = lastLine(await cli(["partner", "create", "--name", `Bench Partner ${i}`, "--industry", "BANKING"], env));
      return { id, secret: lastLine(await cli(["key", "create", "--role", "PARTNER", "--partner", id, "--scopes", "CARDS_CHECK,EVENTS_ALL,WEBHOOKS_MANAGE"], env)) };
    }),
  ]);
  for (const { id, secret } of created as { id: string; secret: string }[]) {
    keys.partnerIds.push(id);
    keys.partners.push(secret);
  }
  keys.issuer = issuerSecret as string;
  register.keys = keys;
  ctx.log(`keys ready (${keys.partnerIds.length} partners) in ${register.dataDir}`);
  return keys;
}

/** One GraphQL call; throws on transport errors or GraphQL errors. */
export async function gql<T = any>(url: string, secret: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL error: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return body.data!;
}

export async function subscribe(url: string, partner: string, target: string, eventTypes: string[]): Promise<{ id: string; secret: string }> {
  const data = await gql(url, partner, "mutation($url: String!, $types: [EventType!]!) { createWebhookSubscription(url: $url, eventTypes: $types) { subscription { id } secret } }", {
    url: target,
    types: eventTypes,
  });
  return { id: data.createWebhookSubscription.subscription.id, secret: data.createWebhookSubscription.secret };
}

/** Webhook benchmarks need http loopback receivers: development mode with 127.0.0.0/8 allowed. */
const WEBHOOK_ENV = { NODE_ENV: "development", WEBHOOK_ALLOW_CIDRS: "127.0.0.0/8", WEBHOOK_RETRY_SCHEDULE: "1s,2s,5s" };

/** One api process per register, shared by the lookup and batch benchmarks. */
export function sharedApi(ctx: BenchContext, register: Register): Promise<RunningHub> {
  return ctx.shared(`api:${register.dataDir}`, () => startHub(ctx, "api", register.dataDir), (hub) => hub.alive(), (hub) => hub.stop());
}

/**
 * One `fpr-hub start` (api + worker, development mode for http loopback webhooks) over a private
 * copy of the lookup register, shared by the fan-out and propagation benchmarks.
 */
export function webhookHub(ctx: BenchContext, base: () => Promise<Register>): Promise<{ register: Register; hub: RunningHub; settled: { seconds: number; events: number } }> {
  return ctx.shared(
    "webhook-hub",
    async () => {
      const register = ctx.copyRegister(await base(), "webhooks");
      const prefix = ctx.prefix("webhooks");
      const [hub] = await Promise.all([startHub(ctx, "start", register.dataDir, { ...WEBHOOK_ENV, QUEUE_PREFIX: prefix }), createKeys(ctx, register)]);
      // Measure on an idle hub: after its first expiry sweep (see settle.ts) and hand-offs.
      const settled = await waitUntilIdle(ctx, register.dataDir, prefix, 120_000);
      return { register, hub, settled };
    },
    ({ hub }) => hub.alive(),
    ({ hub }) => hub.stop(),
  );
}
