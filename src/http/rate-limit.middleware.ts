import type { MiddlewareFn } from "type-graphql";
import type { LimitedAction } from "../partners/rate-limits.ts";
import type { HubContext } from "./context.ts";

/** Counts an operation against the caller's per-minute limit before it runs (`points` per call). */
export function RateLimited(action: LimitedAction, points: (args: Record<string, any>) => number = () => 1): MiddlewareFn<HubContext> {
  return async ({ context, args }, next) => {
    if (context.principal) await context.services.limits?.consume(context.principal, action, points(args));
    return next();
  };
}
