import { Arg, Authorized, Ctx, Query, Resolver, UseMiddleware } from "type-graphql";
import type { HubContext } from "../api/context.ts";
import { EnumerationGuarded } from "../partners/enumeration.middleware.ts";
import { RateLimited } from "../partners/rate-limit.middleware.ts";
import { viewerOf } from "../partners/roles.ts";
import { Verification, VerifyHolderInput } from "./verification.types.ts";

@Resolver()
export class VerificationResolver {
  @Authorized()
  @UseMiddleware(RateLimited("verify"), EnumerationGuarded("VERIFY", (args) => [(args.input as { number?: unknown } | undefined)?.number]))
  @Query(() => Verification, { description: "Confirm a holder's details against a valid card without receiving them. Needs HOLDERS_VERIFY; audited." })
  verifyHolder(@Ctx() ctx: HubContext, @Arg("input", () => VerifyHolderInput, { description: "The card and the details to confirm." }) input: VerifyHolderInput): Promise<Verification> {
    const principal = ctx.principal!;
    return ctx.services.verification.verify(principal, input, viewerOf(principal));
  }
}
