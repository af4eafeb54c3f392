import { Arg, Authorized, Ctx, Query, Resolver } from "type-graphql";
import type { HubContext } from "../api/context.ts";
import { parseCardNumber } from "./card-number.ts";
import { ParsedCardNumber } from "./card-number.types.ts";

@Resolver()
export class CardNumberResolver {
  @Authorized()
  @Query(() => ParsedCardNumber, { description: "Takes a number apart and says what is wrong with it. Any key." })
  parseCardNumber(@Ctx() ctx: HubContext, @Arg("number", () => String, { description: "The number as typed." }) number: string): ParsedCardNumber {
    // Birth dates are checked against the register's clock, the one every card answer uses.
    return parseCardNumber(number, ctx.services.register.now());
  }
}
