import crypto from "node:crypto";
import type { HubDb } from "../db/client.ts";
import type { StorageReporter } from "../db/storage-errors.ts";
import { HubError } from "../errors.ts";
import { ApiKeyStore, type KeyRow } from "./api-keys.store.ts";
import { KeyUseLog } from "./key-use.ts";
import { formatScopes, parseScopes, ROLE_SCOPES, ROLES, SCOPES, type Principal, type Role, type Scope } from "./roles.ts";

export interface ApiKeyView {
  id: string;
  partnerId: string | null;
  role: Role;
  scopes: Scope[];
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const SECRET_PREFIX = "fpr_";
const PREFIX_LENGTH = 12;
/**
 * How long an authenticated secret is trusted without reading the key again. A revocation through
 * this process applies at once; one made by another process (the CLI, a second api) within this.
 */
export const PRINCIPAL_CACHE_MS = 1_000;
const PRINCIPAL_CACHE_SIZE = 10_000;
/** lastUsedAt is refreshed at most this often per key (written off the request path, see key-use.ts). */
const LAST_USED_RESOLUTION_MS = 60_000;

function digestSecret(secret: string): string {
  return crypto.createHash("sha256").update(secret).digest("hex");
}

function toView(row: KeyRow, pendingUse: string | undefined): ApiKeyView {
  const lastUsedAt = pendingUse && (!row.lastUsedAt || pendingUse > row.lastUsedAt) ? pendingUse : row.lastUsedAt;
  return { ...row, lastUsedAt, scopes: parseScopes(row.scopes) };
}

/**
 * The scopes a new key gets. A key never gets more than the key creating it (`granter`): named
 * scopes it lacks are refused, and the role's defaults are cut down to what it carries. Without a
 * granter the operator creates the key on the machine itself (CLI, demo seed): the role decides.
 */
function requireScopes(role: Role, scopes: readonly string[] | null | undefined, granter: Principal | undefined): readonly Scope[] {
  const held = (scope: Scope) => !granter || granter.scopes.has(scope);
  if (scopes === null || scopes === undefined) return ROLE_SCOPES[role].defaults.filter(held);
  const allowed = ROLE_SCOPES[role].allowed;
  const refused = scopes.filter((scope) => !allowed.includes(scope as Scope));
  if (refused.length > 0) {
    throw new HubError("BAD_USER_INPUT", `a ${role} key cannot carry ${refused.join(", ")}`, { field: "scopes" });
  }
  const lacking = SCOPES.filter((scope) => scopes.includes(scope) && !held(scope));
  if (lacking.length > 0) {
    throw new HubError("FORBIDDEN", `your key does not carry ${lacking.join(", ")}: a new key gets at most the scopes of the key creating it`, { field: "scopes" });
  }
  return SCOPES.filter((scope) => scopes.includes(scope));
}

/**
 * Who may create a key of `role` through the API: a key its own role, an ADMIN key any role but
 * ISSUER. ISSUER keys write the register, which only the authority does: the operator creates them
 * on the hub's machine (CLI), so an ADMIN key cannot mint its way to the register.
 */
function requireRole(role: Role, granter: Principal | undefined): void {
  if (granter && role === "ISSUER") {
    throw new HubError("FORBIDDEN", "ISSUER keys are created on the hub's machine (fpr-hub key create --role ISSUER), not through the API", { field: "role" });
  }
  if (granter && granter.role !== "ADMIN" && granter.role !== role) {
    throw new HubError("FORBIDDEN", `a ${granter.role} key cannot create ${role} keys`, { field: "role" });
  }
}

/** The shape of a key id as create() mints it (`key_` + 12 base64url characters). */
export const KEY_ID = /^key_[A-Za-z0-9_-]{12}$/;

/** API keys: random secrets shown once, stored as SHA-256 digests, revocable at once. */
export class ApiKeyService {
  readonly #store: ApiKeyStore;
  /** Uses noted by authenticate(), written in batches: a request never writes. */
  readonly #uses: KeyUseLog;
  /** Recently authenticated secrets (only known, unrevoked ones): every request authenticates. */
  readonly #recent = new Map<string, { principal: Principal; until: number }>();

  constructor(
    db: HubDb,
    private readonly now: () => Date = () => new Date(),
    storage?: StorageReporter,
  ) {
    this.#store = new ApiKeyStore(db);
    this.#uses = new KeyUseLog(this.#store, storage);
  }

  /**
   * A new key. `granter` is the key asking for it (createApiKey): the new key gets at most its role
   * and scopes. Without one, the operator on the machine asks (CLI `fpr-hub key create`, demo seed).
   */
  create(
    input: { partnerId?: string | null; role: Role; scopes?: readonly string[] | null },
    granter?: Principal,
  ): { apiKey: ApiKeyView; secret: string } {
    if (!ROLES.includes(input.role)) throw new HubError("BAD_USER_INPUT", "unknown role", { field: "role" });
    requireRole(input.role, granter);
    const partnerId = input.partnerId ?? null;
    if (input.role === "PARTNER" && !partnerId) {
      throw new HubError("BAD_USER_INPUT", "a PARTNER key needs a partnerId", { field: "partnerId" });
    }
    if (partnerId !== null && !this.#store.partnerExists(partnerId)) {
      throw new HubError("NOT_FOUND", `partner ${partnerId} does not exist`);
    }
    const scopes = requireScopes(input.role, input.scopes, granter);
    const secret = SECRET_PREFIX + crypto.randomBytes(32).toString("base64url");
    const row = this.#store.insert({
      id: `key_${crypto.randomBytes(9).toString("base64url")}`,
      partnerId,
      role: input.role,
      scopes: formatScopes(scopes),
      prefix: secret.slice(0, PREFIX_LENGTH),
      secretDigest: digestSecret(secret),
      createdAt: this.now().toISOString(),
    });
    return { apiKey: toView(row, undefined), secret };
  }

  /** The caller behind a bearer secret, or null when it is unknown or revoked. */
  authenticate(secret: string): Principal | null {
    const clock = Date.now();
    const recent = this.#recent.get(secret);
    if (recent && clock < recent.until) return recent.principal;
    const principal = this.#authenticate(secret);
    if (recent) this.#recent.delete(secret);
    if (principal) {
      if (this.#recent.size >= PRINCIPAL_CACHE_SIZE) this.#recent.delete(this.#recent.keys().next().value!);
      this.#recent.set(secret, { principal, until: clock + PRINCIPAL_CACHE_MS });
    }
    return principal;
  }

  #authenticate(secret: string): Principal | null {
    const row = this.#store.byDigest(digestSecret(secret));
    if (!row || row.revokedAt) return null;
    const now = this.now();
    if (!row.lastUsedAt || now.getTime() - Date.parse(row.lastUsedAt) > LAST_USED_RESOLUTION_MS) {
      this.#uses.note(row.id, now.toISOString());
    }
    return {
      keyId: row.id,
      role: row.role,
      scopes: new Set(parseScopes(row.scopes)),
      partnerId: row.partnerId,
    };
  }

  revoke(id: string): ApiKeyView {
    const row = this.#store.byId(id);
    if (!row) throw new HubError("NOT_FOUND", `API key ${id} does not exist`);
    for (const [secret, { principal }] of this.#recent) if (principal.keyId === id) this.#recent.delete(secret);
    if (row.revokedAt) return toView(row, this.#uses.pendingOf(id));
    const revokedAt = this.now().toISOString();
    const updated = this.#store.revoke(id, revokedAt);
    return toView(updated!, this.#uses.pendingOf(id));
  }

  get(id: string): ApiKeyView | null {
    const row = this.#store.byId(id);
    return row ? toView(row, this.#uses.pendingOf(id)) : null;
  }

  /** Writes the key uses noted so far (true when none is left); the timer does this every few seconds. */
  flushUses(): boolean {
    return this.#uses.flush();
  }

  close(): void {
    this.#uses.close();
  }
}
