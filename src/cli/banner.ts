import type { HubConfig } from "../config.ts";
import type { ApiHandle } from "../api/start-api.ts";
import type { RedisHandle } from "../redis/find-redis.ts";

/** What a person starting the hub needs to know: where to look and which key to use. */
export function printBanner(config: HubConfig, api: ApiHandle, redis: RedisHandle): void {
  const lines = [
    "",
    `fpr-hub is running (${config.isProduction ? "production" : "development"} mode)`,
    `  GraphQL  ${api.url}/graphql`,
    `  Dashboard ${api.url}/dashboard   (sign in with the ADMIN or VIEWER key)`,
    `  Health   ${api.url}/livez   ${api.url}/readyz`,
    ...(api.opsUrl ? [`  Ops      ${api.opsUrl}/metrics   ${api.opsUrl}/livez   ${api.opsUrl}/readyz`] : []),
    `  Data     ${config.databasePath}`,
    `  Redis    ${redis.source === "child" ? "started by the hub" : redis.source === "local" ? "found on 127.0.0.1:6379" : "REDIS_URL"}`,
  ];
  const keys = api.demoKeys;
  if (keys) {
    lines.push(
      "",
      "Demo keys (development only; kept in DATA_DIR/demo-keys.json):",
      `  ADMIN    ${keys.ADMIN}`,
      `  ISSUER   ${keys.ISSUER}`,
      `  PARTNER  ${keys.PARTNER}`,
      `  VIEWER   ${keys.VIEWER}`,
      "",
      "Try:",
      `  curl -s ${api.url}/graphql -H 'content-type: application/json' \\`,
      `    -H 'authorization: Bearer ${keys.PARTNER}' \\`,
      `    -d '{"query":"{ checkCard(number: \\"911124198108030024\\") { result recognized card { validUntil } } }"}'`,
    );
  }
  lines.push("", "Stop with Ctrl-C.", "");
  process.stdout.write(lines.join("\n"));
}
