import type { MiddlewareFn } from "type-graphql";
import type { LimitedAction } from "./rate-limits.ts";
import type { HubContext } from "../api/context.ts";

/** Counts an operation against the caller's per-minute limit before it runs (`points` per call). */
export function RateLimited(action: LimitedAction, points: (args: Record<string, unknown>) => number = () => 1): MiddlewareFn<HubContext> {
  return ({ context, args }, next) => {
    const pending = context.principal ? context.services.limits?.consume(context.principal, action, points(args)) : undefined;
    // Most calls are answered from this process's lease at once: no promise on the common path.
    return pending ? pending.then(next) : next();
  };
}
