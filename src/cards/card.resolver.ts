import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver, UseMiddleware } from "type-graphql";
import { EnumerationGuarded } from "../partners/enumeration.middleware.ts";
import { RateLimited } from "../partners/rate-limit.middleware.ts";
import type { HubContext } from "../api/context.ts";
import { viewerOf } from "../partners/roles.ts";
import { issueCard } from "./card-issuing.ts";
import { MAX_BATCH_CHECKS } from "./card-lookup.ts";
import { reportCardLost, revokeCard, setHolderStatus } from "./card-register.ts";
import { toCardView, type CardRecord } from "./card-state.ts";
import { HolderStatusEnum } from "./card.enums.ts";
import { IssueCardInput } from "./card.inputs.ts";
import { Card, CardCheck } from "./card.types.ts";

function view(ctx: HubContext, card: CardRecord): Card {
  return toCardView(card, ctx.services.register.today(), viewerOf(ctx.principal).canReadLineage);
}

@Resolver()
export class CardResolver {
  @Authorized()
  @UseMiddleware(RateLimited("check"), EnumerationGuarded("CHECK", (args) => [args.number]))
  @Query(() => CardCheck, { description: "The status of one card: the instance asked for, else the latest." })
  checkCard(
    @Ctx() ctx: HubContext,
    @Arg("number", () => String, { description: "The number as typed." }) number: string,
    @Arg("issueCount", () => Int, { nullable: true, description: "The instance read from the chip, if known." })
    issueCount?: number | null,
  ): CardCheck {
    return ctx.services.lookup.checkCard(number, issueCount, viewerOf(ctx.principal));
  }

  @Authorized()
  @UseMiddleware(
    RateLimited("check", (args) => (Array.isArray(args.numbers) ? args.numbers.length : 1)),
    // More than MAX_BATCH_CHECKS is refused by the lookup, unanswered: nothing to count.
    EnumerationGuarded("CHECK", (args) => (Array.isArray(args.numbers) && args.numbers.length <= MAX_BATCH_CHECKS ? args.numbers : [])),
  )
  @Query(() => [CardCheck], { description: "Up to 1,000 checks in one request; answers in input order, one per number." })
  checkCards(
    @Ctx() ctx: HubContext,
    @Arg("numbers", () => [String], { description: "The numbers as typed." }) numbers: string[],
  ): CardCheck[] {
    return ctx.services.lookup.checkCards(numbers, viewerOf(ctx.principal));
  }

  @Authorized()
  @Mutation(() => Card, { description: "Issuer: issue a card instance. An identical repeat is a no-op; a conflicting one is CONFLICT." })
  issueCard(@Ctx() ctx: HubContext, @Arg("input", () => IssueCardInput, { description: "The card." }) input: IssueCardInput): Card {
    return view(ctx, issueCard(ctx.services.register, input));
  }

  @Authorized()
  @Mutation(() => Card, { description: "Issuer: report an instance lost (the latest unless issueCount names one)." })
  reportCardLost(
    @Ctx() ctx: HubContext,
    @Arg("number", () => String, { description: "The card number." }) number: string,
    @Arg("issueCount", () => Int, { nullable: true, description: "The lost instance; default the latest." })
    issueCount?: number | null,
  ): Card {
    return view(ctx, reportCardLost(ctx.services.register, number, issueCount));
  }

  @Authorized()
  @Mutation(() => Card, { description: "Issuer: cancel a card. A revoked card never becomes valid again." })
  revokeCard(
    @Ctx() ctx: HubContext,
    @Arg("number", () => String, { description: "The card number." }) number: string,
    @Arg("reason", () => String, { description: "The authority's reason; kept on the hub, not sent to partners." }) reason: string,
  ): Card {
    return view(ctx, revokeCard(ctx.services.register, number, reason));
  }

  @Authorized()
  @Mutation(() => Card, { description: "Issuer: change the holder's permanent-residence status." })
  setHolderStatus(
    @Ctx() ctx: HubContext,
    @Arg("number", () => String, { description: "Any card number of the holder." }) number: string,
    @Arg("status", () => HolderStatusEnum, { description: "The new status." }) status: keyof typeof HolderStatusEnum,
    @Arg("reason", () => String, { nullable: true, description: "The authority's reason; not sent to partners." })
    reason?: string | null,
  ): Card {
    return view(ctx, setHolderStatus(ctx.services.register, number, status, reason));
  }
}
