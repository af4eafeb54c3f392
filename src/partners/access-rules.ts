import { HubError } from "../errors.ts";
import type { Principal, Role, Scope } from "./roles.ts";

/**
 * Who may call each query and mutation: one table, deny by default. A root field with no rule
 * here is refused for everyone (and the access-matrix test fails), so a new operation must be
 * given a rule before it can be used.
 */
export interface AccessRule {
  /** Roles allowed whatever their scopes. */
  roles?: readonly Role[];
  /** A key of one of these roles is allowed when it carries the scope. */
  scoped?: { roles: readonly Role[]; scope: Scope };
  /** Any valid key. */
  anyKey?: true;
}

const ANY_KEY: AccessRule = { anyKey: true };
const ISSUER_ONLY: AccessRule = { roles: ["ISSUER"] };
const ADMIN_ONLY: AccessRule = { roles: ["ADMIN"] };
const DASHBOARD: AccessRule = { roles: ["ADMIN", "VIEWER"] };
const PARTNER_ONLY: AccessRule = { roles: ["PARTNER"] };
const WATCHING: AccessRule = { scoped: { roles: ["PARTNER"], scope: "CARDS_CHECK" } };
const WEBHOOKS: AccessRule = { scoped: { roles: ["PARTNER"], scope: "WEBHOOKS_MANAGE" } };

export const ACCESS_RULES: Readonly<Record<string, AccessRule>> = {
  parseCardNumber: ANY_KEY,
  checkCard: { roles: ["ISSUER", "ADMIN"], scoped: { roles: ["PARTNER", "VIEWER"], scope: "CARDS_CHECK" } },
  checkCards: { roles: ["ISSUER", "ADMIN"], scoped: { roles: ["PARTNER", "VIEWER"], scope: "CARDS_CHECK" } },
  verifyHolder: { scoped: { roles: ["PARTNER", "ADMIN"], scope: "HOLDERS_VERIFY" } },
  changes: { roles: ["ISSUER", "ADMIN", "PARTNER"] },
  me: ANY_KEY,
  webhookSubscriptions: WEBHOOKS,
  webhookDeliveries: WEBHOOKS,
  partners: DASHBOARD,
  rolloutCoverage: DASHBOARD,
  migrationProgress: DASHBOARD,
  migrationTimeline: DASHBOARD,
  deliveryHealth: DASHBOARD,
  conformanceRun: DASHBOARD,

  issueCard: ISSUER_ONLY,
  reportCardLost: ISSUER_ONLY,
  revokeCard: ISSUER_ONLY,
  setHolderStatus: ISSUER_ONLY,
  createWebhookSubscription: WEBHOOKS,
  rotateWebhookSecret: WEBHOOKS,
  pauseWebhookSubscription: WEBHOOKS,
  resumeWebhookSubscription: WEBHOOKS,
  deleteWebhookSubscription: WEBHOOKS,
  sendTestEvent: WEBHOOKS,
  replayEvents: WEBHOOKS,
  // Watching is checking by another name: the same scope, limits and audit (see watchlist.ts).
  watchCards: WATCHING,
  unwatchCards: WATCHING,
  declareAdaptation: PARTNER_ONLY,
  createPartner: ADMIN_ONLY,
  createApiKey: ADMIN_ONLY,
  revokeApiKey: ADMIN_ONLY,
  runConformanceProbe: ADMIN_ONLY,

  // Plain HTTP routes
  // Only the issuer writes the register, on every path (the import worker checks the key again).
  "POST /imports": ISSUER_ONLY,
  // The state and rejects of an import hold counts, line numbers and codes, never the file's text:
  // ADMIN keys read them to run the hub, as they see the queue on the board.
  "GET /imports": { roles: ["ISSUER", "ADMIN"] },
  queueBoard: ADMIN_ONLY,
};

function isAllowed(rule: AccessRule | undefined, principal: Principal): boolean {
  if (!rule) return false;
  if (rule.anyKey) return true;
  if (rule.roles?.includes(principal.role)) return true;
  return !!rule.scoped && rule.scoped.roles.includes(principal.role) && principal.scopes.has(rule.scoped.scope);
}

/** Throws UNAUTHENTICATED without a valid key, FORBIDDEN when the rule for `operation` refuses. */
export function requireAccess(operation: string, principal: Principal | null, authFailure: string | null): Principal {
  if (!principal) {
    throw new HubError("UNAUTHENTICATED", authFailure ?? "an API key is required: send Authorization: Bearer <secret>");
  }
  if (!isAllowed(ACCESS_RULES[operation], principal)) {
    throw new HubError("FORBIDDEN", `a ${principal.role} key may not call ${operation}`);
  }
  return principal;
}
