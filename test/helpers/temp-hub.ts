import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig, type HubConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import { startApi, type ApiHandle } from "../../src/hub.ts";
import { createServices, type HubServices } from "../../src/hub-services.ts";
import { Digester } from "../../src/hub-secret.ts";

export const TEST_SECRET = "test-secret-test-secret-test-secret-0123";

export function tempDir(prefix = "fpr-hub-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

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
  return Object.assign(createServices(openDatabase(file), new Digester(TEST_SECRET), clock.now), { file });
}

export function testConfig(overrides: Record<string, string> = {}): HubConfig {
  return loadConfig({ PORT: "0", DATA_DIR: tempDir(), DEMO_SEED: "off", HUB_SECRET: TEST_SECRET, NODE_ENV: "test", ...overrides });
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
    readonly api: ApiHandle,
    readonly config: HubConfig,
  ) {}

  static async start(overrides: Record<string, string> = {}, now?: () => Date): Promise<TestHub> {
    const config = testConfig(overrides);
    const api = await startApi(config, { log: () => {}, now });
    return new TestHub(api, config);
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
  }
}
