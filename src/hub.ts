import type http from "node:http";
import { sql } from "drizzle-orm";
import { isRegisterEmpty, readDemoKeys, seedDemo, type DemoKeys } from "./demo/demo-seed.ts";
import { dashboardRoutes } from "./dashboard/dashboard-routes.ts";
import { seedDemoEvidence } from "./demo/demo-evidence.ts";
import { createApollo } from "./http/apollo.ts";
import { importRoutes } from "./imports/import-routes.ts";
import { queueBoardRoutes } from "./http/queue-board.ts";
import { createHttpServer, listen, sendJson } from "./http/server.ts";
import type { HubServices } from "./hub-services.ts";
import type { HubRuntime } from "./runtime.ts";

export interface ApiHandle {
  url: string;
  services: HubServices;
  demoKeys: DemoKeys | null;
  close(): Promise<void>;
}

function healthRoutes(runtime: HubRuntime) {
  return {
    "/healthz": (_req: http.IncomingMessage, res: http.ServerResponse) => sendJson(res, 200, { status: "ok" }),
    "/readyz": async (_req: http.IncomingMessage, res: http.ServerResponse) => {
      const database = (() => {
        try {
          runtime.services.db.get(sql`SELECT 1`);
          return "ok";
        } catch {
          return "unavailable";
        }
      })();
      const redis = await runtime.queues.connection.ping().then(
        () => "ok",
        () => "unavailable",
      );
      // Redis down is degraded, not unready: mutations commit to the outbox and are relayed later.
      sendJson(res, database === "ok" ? 200 : 503, { status: database === "ok" ? "ready" : "not ready", database, redis });
    },
  };
}

/** Starts the api role: demo seed when configured, GraphQL and HTTP routes. */
export async function startApi(runtime: HubRuntime): Promise<ApiHandle> {
  const { config, services, log } = runtime;
  let demoKeys: DemoKeys | null = null;
  if (config.demoSeed) {
    if (isRegisterEmpty(services)) {
      demoKeys = seedDemo(services, config.dataDir);
      seedDemoEvidence(services);
    } else {
      demoKeys = readDemoKeys(config.dataDir);
    }
  }
  const apollo = await createApollo({ isProduction: config.isProduction, log });
  runtime.metrics.watch(runtime);
  const routes = { ...healthRoutes(runtime), ...importRoutes(runtime), ...dashboardRoutes(), ...queueBoardRoutes(runtime), "/metrics": runtime.metrics.route() };
  const server = createHttpServer({ apollo, services, routes, log });
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
    },
  };
}
