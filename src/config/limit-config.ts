/** Request limits: rates per role, the verification miss rule, the enumeration guard, audit retention. */
import { ConfigError, readInt, type Env } from "./env-values.ts";

export interface LimitConfig {
  /** Card checks per minute per key, by role (a batch counts each number); `RATE_LIMIT_CHECKS`. */
  checksPerMinute: Record<string, number>;
  /** Verifications per minute per key, by role; `RATE_LIMIT_VERIFICATIONS`. */
  verificationsPerMinute: Record<string, number>;
  /**
   * After this many NO_MATCH answers for one number by one key, or by all keys of one partner
   * together, one attempt per `verifySlowSeconds`. A MATCH does not clear earlier misses.
   */
  verifySlowAfter: number;
  verifySlowSeconds: number;
  /** After this many, the number is blocked for that key (or partner) for `verifyBlockSeconds` after the last miss allowed. */
  verifyBlockAfter: number;
  verifyBlockSeconds: number;
  /**
   * Enumeration guard: distinct numbers one partner (or a key without partner) may check per
   * stem (V2023 positions 1-14: province, nationality, birth date; V2017: nationality, province,
   * birth date) per window; more are RATE_LIMITED and audited. `ENUMERATION_LIMIT`, default 20;
   * `ENUMERATION_WINDOW_SECONDS`, default 3600. Legitimate traffic rarely checks two holders who
   * share a birth date, nationality and province; guessing a holder's new number does.
   */
  enumerationPerStem: number;
  enumerationWindowSeconds: number;
  /** Audit records are kept this long; `AUDIT_RETENTION_DAYS`, default 180. */
  auditRetentionDays: number;
}

/** The roles of partners/roles.ts, written here because the kernel imports no domain. */
const ROLE_NAMES = ["ISSUER", "PARTNER", "ADMIN", "VIEWER"];

/** `ROLE=N,ROLE=N`: a limit per role; roles not named keep their default. */
function readRoleLimits(env: Env, name: string, defaults: Record<string, number>): Record<string, number> {
  const raw = (env[name] ?? "").trim();
  const limits = { ...defaults };
  if (raw === "") return limits;
  for (const part of raw.split(",")) {
    const match = /^\s*([A-Z]+)\s*=\s*(\d{1,9})\s*$/.exec(part);
    if (!match || !ROLE_NAMES.includes(match[1]) || Number(match[2]) < 1) {
      throw new ConfigError(`${name} must look like PARTNER=6000,VIEWER=600 (roles ${ROLE_NAMES.join(", ")}; limits at least 1), got "${raw}"`);
    }
    limits[match[1]] = Number(match[2]);
  }
  return limits;
}

function checkGuard(limits: LimitConfig): LimitConfig {
  if (limits.verifySlowAfter >= limits.verifyBlockAfter) {
    throw new ConfigError("VERIFY_SLOW_AFTER must be smaller than VERIFY_BLOCK_AFTER (verifications slow down before they are blocked)");
  }
  return limits;
}

export function readLimits(env: Env): LimitConfig {
  return checkGuard({
    checksPerMinute: readRoleLimits(env, "RATE_LIMIT_CHECKS", { ISSUER: 600_000, PARTNER: 120_000, ADMIN: 60_000, VIEWER: 600 }),
    verificationsPerMinute: readRoleLimits(env, "RATE_LIMIT_VERIFICATIONS", { ISSUER: 600, PARTNER: 1200, ADMIN: 600, VIEWER: 60 }),
    verifySlowAfter: readInt(env, "VERIFY_SLOW_AFTER", 3, 1, 1000),
    verifySlowSeconds: readInt(env, "VERIFY_SLOW_SECONDS", 60, 1, 86_400),
    verifyBlockAfter: readInt(env, "VERIFY_BLOCK_AFTER", 10, 2, 1000),
    verifyBlockSeconds: readInt(env, "VERIFY_BLOCK_SECONDS", 3600, 1, 7 * 86_400),
    enumerationPerStem: readInt(env, "ENUMERATION_LIMIT", 20, 2, 10_000),
    enumerationWindowSeconds: readInt(env, "ENUMERATION_WINDOW_SECONDS", 3600, 1, 7 * 86_400),
    auditRetentionDays: readInt(env, "AUDIT_RETENTION_DAYS", 180, 1, 3650),
  });
}
