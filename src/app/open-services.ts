import type { HubConfig } from "../config.ts";
import { prepareDataDir } from "../data-dir.ts";
import { openDatabase, type HubDb } from "../db/client.ts";
import type { StorageReporter } from "../db/storage-errors.ts";
import { createServices, type HubServices, type ServiceSettings } from "./services.ts";
import { Digester, resolveHubSecret } from "../hub-secret.ts";

/** The database on the configured data directory, and the hub's digest key. */
export function openStore(config: HubConfig): { db: HubDb; digester: Digester } {
  prepareDataDir(config);
  const db = openDatabase(config.databasePath);
  return { db, digester: new Digester(resolveHubSecret(config)) };
}

/** What the configuration sets in the services: the webhook URL policy, the probes' source and timeout. */
export function serviceSettings(config: HubConfig, storage?: StorageReporter): ServiceSettings {
  const urlPolicy = { requireHttps: config.isProduction, allowCidrs: config.webhookAllowCidrs };
  const probe = { sourceUri: config.sourceUri, timeoutMs: config.webhooks.timeoutMs };
  return { urlPolicy, probe, storage };
}

/** Opens the store and services on the configured data directory (no Redis: the CLI's view). */
export function openServices(config: HubConfig, now?: () => Date, storage?: StorageReporter): HubServices {
  return createServices({ ...openStore(config), now, settings: serviceSettings(config, storage) });
}
