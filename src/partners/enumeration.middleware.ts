import type { MiddlewareFn } from "type-graphql";
import type { AuditKind } from "./audit-log.ts";
import type { HubContext } from "../api/context.ts";

/**
 * Refuses an operation that would take the caller past the enumeration guard (too many different
 * numbers sharing a stem), before it runs. `numbers` picks the card numbers out of the arguments.
 */
export function EnumerationGuarded(kind: AuditKind, numbers: (args: Record<string, unknown>) => readonly unknown[]): MiddlewareFn<HubContext> {
  return ({ context, args }, next) => {
    const guard = context.services.enumeration;
    const pending = context.principal && guard ? guard.admit(context.principal, numbers(args), kind) : undefined;
    // Usually answered at once from what this process knows: no promise on the common path.
    return pending ? pending.then(next) : next();
  };
}
