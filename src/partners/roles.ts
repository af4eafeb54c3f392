import type { Role } from "../db/column-types.ts";

// The list is kept beside the table definitions, which type api_keys.role with it.
export { ROLES, type Role } from "../db/column-types.ts";

export const SCOPES = ["CARDS_CHECK", "HOLDERS_VERIFY", "LINEAGE_READ", "EVENTS_ALL", "WEBHOOKS_MANAGE"] as const;
export type Scope = (typeof SCOPES)[number];

/** Which scopes a key of each role may carry, and which it gets when none are named. */
export const ROLE_SCOPES: Record<Role, { allowed: readonly Scope[]; defaults: readonly Scope[] }> = {
  PARTNER: { allowed: SCOPES, defaults: ["CARDS_CHECK", "HOLDERS_VERIFY", "WEBHOOKS_MANAGE"] },
  ISSUER: { allowed: ["CARDS_CHECK", "LINEAGE_READ", "EVENTS_ALL"], defaults: ["CARDS_CHECK", "LINEAGE_READ", "EVENTS_ALL"] },
  ADMIN: { allowed: SCOPES, defaults: SCOPES },
  VIEWER: { allowed: ["CARDS_CHECK"], defaults: ["CARDS_CHECK"] },
};

/** The authenticated caller of a request. */
export interface Principal {
  keyId: string;
  role: Role;
  scopes: ReadonlySet<Scope>;
  partnerId: string | null;
}

/**
 * Whose guesses count together (verification misses, numbers of one stem): a partner's keys, or
 * the keys of one role without a partner. An ADMIN can mint keys at will, so per-key counts alone
 * would give each new key fresh guesses; a VIEWER cannot spend the ADMINs' count.
 */
export function guessingGroup(principal: Principal): string {
  return principal.partnerId ? `partner:${principal.partnerId}` : `operators:${principal.role}`;
}

export function hasScope(principal: Principal | null, scope: Scope): boolean {
  return principal?.scopes.has(scope) ?? false;
}

/**
 * Scopes from their stored comma-separated form (api_keys.scopes, written by formatScopes). Names
 * are taken exactly as stored, empty entries dropped: the SQL side (events/event-visibility.ts
 * keyHasScopeSql) matches exact names, and the two must agree, so a hand-edited " lineage_read"
 * grants nothing on either side.
 */
export function parseScopes(stored: string | null): Scope[] {
  return stored ? (stored.split(",").filter((name) => name !== "") as Scope[]) : [];
}

/**
 * Scopes as a person types them (`--scopes cards_check, lineage_read`): entries trimmed and
 * upper-cased, empty ones dropped. Names are not checked here: creating a key refuses unknown
 * ones, naming them.
 */
export function readTypedScopes(typed: string): string[] {
  return typed
    .split(",")
    .map((part) => part.trim().toUpperCase())
    .filter((name) => name !== "");
}

/** The stored form of a key's scopes (api_keys.scopes), read back by parseScopes; "" for none. */
export function formatScopes(scopes: readonly Scope[]): string {
  return scopes.join(",");
}

/** Who is asking, as an answer sees them: whether it may show lineage, and whom the audit names. */
export interface Viewer {
  canReadLineage: boolean;
  keyId?: string | null;
  partnerId?: string | null;
}

/** The viewer of a request's caller (none: no lineage, nobody named). */
export function viewerOf(principal: Principal | null): Viewer {
  return { canReadLineage: hasScope(principal, "LINEAGE_READ"), keyId: principal?.keyId, partnerId: principal?.partnerId };
}
