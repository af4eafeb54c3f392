import type { HubConfig } from "../config.ts";
import { prepareDataDir } from "../data-dir.ts";
import { openDatabase } from "../db/client.ts";
import type { StorageReporter } from "../db/storage-errors.ts";
import { createServices, type HubServices } from "./services.ts";
import { Digester, resolveHubSecret } from "../hub-secret.ts";

/** Opens the store and services on the configured data directory (no Redis: the CLI's view). */
export function openServices(config: HubConfig, now?: () => Date, storage?: StorageReporter): HubServices {
  prepareDataDir(config);
  const db = openDatabase(config.databasePath);
  const urlPolicy = { requireHttps: config.isProduction, allowCidrs: config.webhookAllowCidrs };
  const probe = { sourceUri: config.sourceUri, timeoutMs: config.webhooks.timeoutMs };
  return createServices(db, new Digester(resolveHubSecret(config)), now, { urlPolicy, probe, storage });
}
