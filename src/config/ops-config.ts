/** The operations listener: /metrics, /healthz and /readyz on a port of their own. */
import { ConfigError, readPort, type Env } from "./env-values.ts";

export interface OpsConfig {
  /** `OPS_PORT`: a second listener for /metrics, /healthz, /readyz; null (default) for none. */
  port: number | null;
  /** `OPS_HOST`, default loopback: operations figures are not for every interface HOST may open. */
  host: string;
  /** `METRICS_TOKEN`: when set, /metrics answers only `Authorization: Bearer <token>`. */
  metricsToken: string | null;
}

export function readOps(env: Env, port: number): OpsConfig {
  const opsPort = env.OPS_PORT === undefined || env.OPS_PORT === "" ? null : readPort(env, "OPS_PORT");
  if (opsPort !== null && opsPort !== 0 && opsPort === port) throw new ConfigError(`OPS_PORT must differ from PORT, got "${env.OPS_PORT}"`);
  const token = env.METRICS_TOKEN;
  if (token !== undefined && token !== "" && !/^[A-Za-z0-9._~+/=-]{16,256}$/.test(token)) {
    throw new ConfigError("METRICS_TOKEN must be 16 to 256 characters of letters, digits and ._~+/=-");
  }
  return { port: opsPort, host: env.OPS_HOST || "127.0.0.1", metricsToken: token || null };
}
