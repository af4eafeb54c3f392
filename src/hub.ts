import type http from "node:http";
import { sql } from "drizzle-orm";
import type { HubConfig } from "./config.ts";
import { openDatabase } from "./db/client.ts";
import { isRegisterEmpty, readDemoKeys, seedDemo, type DemoKeys } from "./demo/demo-seed.ts";
import { createApollo, type Logger } from "./http/apollo.ts";
import { createHttpServer, listen, sendJson } from "./http/server.ts";
import { createServices, type HubServices } from "./hub-services.ts";
import { Digester, resolveHubSecret } from "./hub-secret.ts";

export const jsonLogger: Logger = (entry) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);

/** Opens the store and services on the configured data directory (used by the api, worker and CLI). */
export function openServices(config: HubConfig, now?: () => Date): HubServices {
  const db = openDatabase(config.databasePath);
  return createServices(db, new Digester(resolveHubSecret(config)), now);
}

export interface ApiHandle {
  url: string;
  services: HubServices;
  demoKeys: DemoKeys | null;
  close(): Promise<void>;
}

function healthRoutes(services: HubServices) {
  return {
    "/healthz": (_req: http.IncomingMessage, res: http.ServerResponse) => sendJson(res, 200, { status: "ok" }),
    "/readyz": (_req: http.IncomingMessage, res: http.ServerResponse) => {
      try {
        services.db.get(sql`SELECT 1`);
        sendJson(res, 200, { status: "ready", database: "ok" });
      } catch {
        sendJson(res, 503, { status: "not ready", database: "unavailable" });
      }
    },
  };
}

/** Starts the api role: database (migrated, demo-seeded when configured), GraphQL and HTTP routes. */
export async function startApi(config: HubConfig, options: { log?: Logger; now?: () => Date } = {}): Promise<ApiHandle> {
  const log = options.log ?? jsonLogger;
  const services = openServices(config, options.now);
  let demoKeys: DemoKeys | null = null;
  if (config.demoSeed) {
    demoKeys = isRegisterEmpty(services) ? seedDemo(services, config.dataDir) : readDemoKeys(config.dataDir);
  }
  const apollo = await createApollo({ isProduction: config.isProduction, log });
  const server = createHttpServer({ apollo, services, routes: healthRoutes(services), log });
  server.keepAliveTimeout = 65_000;
  const address = await listen(server, config.port, config.host);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    services,
    demoKeys,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await apollo.stop();
      services.db.$client.close();
    },
  };
}
