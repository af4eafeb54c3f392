import path from "node:path";
import { loadConfig, type HubConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import { startWorker, type WorkerHandle } from "../../jobs/worker.ts";
import { startApi, type ApiHandle } from "../../src/api/start-api.ts";
import { openRuntime, type HubRuntime, type Logger } from "../../src/app/runtime.ts";
import { redisUrl, uniquePrefix } from "./redis.ts";
import { createServices, type HubServices } from "../../src/app/services.ts";
import { Digester } from "../../src/hub-secret.ts";

export const TEST_SECRET = "test-secret-test-secret-test-secret-0123";

export { tempDir } from "./temp-dir.ts";
import { tempDir } from "./temp-dir.ts";

/** A clock tests can move. */
export class TestClock {
  constructor(public current = new Date("2025-06-15T04:00:00.000Z")) {}
  now = (): Date => new Date(this.current);
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** Services over a fresh SQLite file with real migrations. */
export function tempServices(clock = new TestClock()): HubServices & { file: string } {
  const file = path.join(tempDir(), "hub.sqlite");
  return Object.assign(createServices({ db: openDatabase(file), digester: new Digester(TEST_SECRET), now: clock.now }), { file });
}

/** A configuration for one test hub: its own data dir, its own queue prefix, the test Redis, fast retries. */
export function testConfig(overrides: Record<string, string> = {}): HubConfig {
  return loadConfig({
    PORT: "0",
    DATA_DIR: tempDir(),
    DEMO_SEED: "off",
    HUB_SECRET: TEST_SECRET,
    NODE_ENV: "test",
    REDIS_URL: redisUrl(),
    QUEUE_PREFIX: uniquePrefix(),
    WEBHOOK_ALLOW_CIDRS: "127.0.0.0/8",
    WEBHOOK_RETRY_SCHEDULE: "20ms,40ms,60ms",
    OUTBOX_POLL_MS: "100",
    DELIVERY_RECONCILE_MS: "200",
    DELIVERY_GRACE_MS: "1000",
    WEBHOOK_BREAKER_MS: "200",
    WEBHOOK_BREAKER_MAX_MS: "1000",
    ...overrides,
  });
}

export interface GraphQLAnswer<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions: { code: string; [key: string]: unknown } }[];
  headers: Headers;
}

/** A running api on a loopback port, with a small GraphQL client. */
export class TestHub {
  private constructor(
    readonly runtime: HubRuntime,
    readonly api: ApiHandle,
    readonly worker: WorkerHandle | null,
  ) {}

  /** Api (and, with `worker: true`, the worker) on one runtime, as `fpr-hub start` runs them. */
  static async start(overrides: Record<string, string> = {}, now?: () => Date, options: { worker?: boolean; log?: Logger } = {}): Promise<TestHub> {
    const runtime = await openRuntime(testConfig(overrides), { log: options.log ?? (() => {}), now });
    const worker = options.worker ? await startWorker(runtime) : null;
    const api = await startApi(runtime);
    return new TestHub(runtime, api, worker);
  }

  get config(): HubConfig {
    return this.runtime.config;
  }

  get services(): HubServices {
    return this.api.services;
  }

  key(role: "ADMIN" | "ISSUER" | "VIEWER" | "PARTNER", options: { partnerId?: string; scopes?: string[] } = {}): string {
    return this.services.apiKeys.create({ role, ...options }).secret;
  }

  partnerKey(scopes?: string[]): { secret: string; partnerId: string } {
    const partner = this.services.partners.create({ name: "Test Hotel", industry: "ACCOMMODATION", provinceCode: "11" });
    return { secret: this.key("PARTNER", { partnerId: partner.id, scopes }), partnerId: partner.id };
  }

  async gql<T = any>(secret: string | null, query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer<T>> {
    const response = await fetch(`${this.api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: GraphQLAnswer["errors"] };
    return { status: response.status, ...body, headers: response.headers };
  }

  async close(): Promise<void> {
    await this.api.close();
    await this.worker?.close();
    await this.runtime.close();
  }
}
