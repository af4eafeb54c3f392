import { isRegisterEmpty, readDemoKeys, seedDemo, type DemoKeys } from "../demo/demo-seed.ts";
import { dashboardRoutes } from "../dashboard/dashboard-routes.ts";
import { seedDemoEvidence } from "../demo/demo-evidence.ts";
import { createApollo } from "./apollo.ts";
import { buildContext } from "./context.ts";
import { importRoutes } from "../imports/import-routes.ts";
import { queueBoardRoutes } from "./queue-board.ts";
import { apiMetricsRoute, healthRoutes, startOpsListener } from "./ops-routes.ts";
import { createHttpServer } from "./http-server.ts";
import { closeServer, listen, openConnections } from "../http/listen.ts";
import type { RouteHandler } from "../http/respond.ts";
import type { HubServices } from "../app/services.ts";
import type { HubRuntime } from "../app/runtime.ts";

export interface ApiHandle {
  url: string;
  /** The operations listener (OPS_PORT), or null. */
  opsUrl: string | null;
  services: HubServices;
  demoKeys: DemoKeys | null;
  /** Stops accepting, answers the requests in flight, then closes the operations listener and Apollo. */
  close(): Promise<void>;
  /** Connections open on the api port (for the shutdown's account of what is still running). */
  openConnections(): Promise<number>;
}

/** Every plain HTTP route of the api port (beside /graphql), by path: the access-matrix test walks them all. */
export function apiRoutes(runtime: HubRuntime, metrics: RouteHandler): Record<string, RouteHandler> {
  const { config, services, queues } = runtime;
  const imports = importRoutes({ callerOf: (authorization) => buildContext(services, authorization, ""), queues, dataDir: config.dataDir, settings: config.imports });
  return { ...healthRoutes(runtime), ...imports, ...dashboardRoutes(), ...queueBoardRoutes(runtime), ...apiMetricsRoute(config, metrics) };
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
  const metrics = runtime.metrics.route();
  const server = createHttpServer({ apollo, services, routes: apiRoutes(runtime, metrics), log });
  server.keepAliveTimeout = 65_000;
  const address = await listen(server, config.port, config.host);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const ops = await startOpsListener(runtime, metrics).catch(async (error: unknown) => {
    server.close();
    await apollo.stop();
    throw error;
  });
  return {
    url: `http://${host}:${address.port}`,
    opsUrl: ops?.url ?? null,
    services,
    demoKeys,
    async close() {
      await closeServer(server);
      await ops?.close();
      await apollo.stop();
    },
    openConnections: () => openConnections(server),
  };
}
