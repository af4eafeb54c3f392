import path from "node:path";

/**
 * The only reader of process.env. Parsed and validated once; an invalid value stops the start
 * with a message naming the variable.
 */
export interface HubConfig {
  port: number;
  host: string;
  dataDir: string;
  /** SQLite file; `DATABASE_PATH`, default `<DATA_DIR>/fpr-hub.sqlite`. */
  databasePath: string;
  redisUrl: string | null;
  hubSecret: string | null;
  isProduction: boolean;
  webhookAllowCidrs: string[];
  demoSeed: boolean;
  /** CloudEvents `source` of this hub; `HUB_SOURCE_URI`. */
  sourceUri: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;

function readPort(env: Env): number {
  const raw = env.PORT ?? "4000";
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    throw new ConfigError(`PORT must be a whole number from 0 to 65535, got "${raw}"`);
  }
  return port;
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = raw.toLowerCase();
  if (["1", "true", "on", "yes"].includes(value)) return true;
  if (["0", "false", "off", "no"].includes(value)) return false;
  throw new ConfigError(`${name} must be one of on/off, true/false, 1/0, got "${raw}"`);
}

function readNodeEnv(env: Env): boolean {
  const raw = env.NODE_ENV ?? "development";
  if (!["development", "production", "test"].includes(raw)) {
    throw new ConfigError(`NODE_ENV must be development, production or test, got "${raw}"`);
  }
  return raw === "production";
}

function readCidrs(env: Env): string[] {
  const raw = (env.WEBHOOK_ALLOW_CIDRS ?? "").trim();
  if (raw === "") return [];
  const cidrs = raw.split(",").map((part) => part.trim());
  for (const cidr of cidrs) {
    if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(cidr)) {
      throw new ConfigError(`WEBHOOK_ALLOW_CIDRS must be comma-separated CIDR ranges, got "${cidr}"`);
    }
  }
  return cidrs;
}

function readRedisUrl(env: Env): string | null {
  const raw = env.REDIS_URL?.trim();
  if (!raw) return null;
  if (!/^rediss?:\/\//.test(raw)) {
    throw new ConfigError("REDIS_URL must start with redis:// or rediss://");
  }
  return raw;
}

function readHubSecret(env: Env, isProduction: boolean): string | null {
  const raw = env.HUB_SECRET;
  if (raw === undefined || raw === "") {
    if (isProduction) throw new ConfigError("HUB_SECRET is required when NODE_ENV=production");
    return null;
  }
  if (raw.length < 32) throw new ConfigError("HUB_SECRET must be at least 32 characters long");
  return raw;
}

export function loadConfig(env: Env = process.env): HubConfig {
  const isProduction = readNodeEnv(env);
  const dataDir = path.resolve(env.DATA_DIR || "./data");
  const host = env.HOST || "127.0.0.1";
  const port = readPort(env);
  return {
    port,
    host,
    dataDir,
    databasePath: path.resolve(env.DATABASE_PATH || path.join(dataDir, "fpr-hub.sqlite")),
    redisUrl: readRedisUrl(env),
    hubSecret: readHubSecret(env, isProduction),
    isProduction,
    webhookAllowCidrs: readCidrs(env),
    demoSeed: readBoolean(env, "DEMO_SEED", !isProduction),
    sourceUri: env.HUB_SOURCE_URI || `urn:fpr-hub:${host}:${port}`,
  };
}
