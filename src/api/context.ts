import type { HubServices } from "../app/services.ts";
import type { Principal } from "../partners/roles.ts";

export interface HubContext {
  principal: Principal | null;
  /** Why authentication failed, when a key was sent but refused. */
  authFailure: string | null;
  requestId: string;
  services: HubServices;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Resolves the caller from the Authorization header; never throws (access is checked per operation). */
export function buildContext(services: HubServices, authorization: string | undefined, requestId: string): HubContext {
  if (!authorization) return { principal: null, authFailure: null, requestId, services };
  const match = BEARER.exec(authorization);
  if (!match) {
    return { principal: null, authFailure: "the Authorization header must be `Bearer <secret>`", requestId, services };
  }
  const principal = services.apiKeys.authenticate(match[1]);
  return { principal, authFailure: principal ? null : "the API key is unknown or revoked", requestId, services };
}
