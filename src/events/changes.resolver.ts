import { Arg, Authorized, Ctx, Int, Query, Resolver } from "type-graphql";
import type { HubContext } from "../api/context.ts";
import { hasScope, viewerOf } from "../partners/roles.ts";
import { CardEventConnection, EventTypeEnum } from "./event.types.ts";

@Resolver()
export class ChangesResolver {
  @Authorized()
  @Query(() => CardEventConnection, {
    description:
      "The change feed, in sequence order. Partners see events of the card numbers they watch (across a V2017 → V2023 switch only with LINEAGE_READ), or all with EVENTS_ALL; ISSUER and ADMIN see all.",
  })
  changes(
    @Ctx() ctx: HubContext,
    @Arg("after", () => String, { nullable: true, description: "Continue after this cursor (pageInfo.endCursor)." })
    after?: string | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: 100, description: "Page size, 1 to 1,000." })
    first?: number | null,
    @Arg("types", () => [EventTypeEnum], { nullable: true, description: "Only these event types." })
    types?: string[] | null,
  ): CardEventConnection {
    const principal = ctx.principal!;
    const reader = {
      seesAll: principal.role !== "PARTNER" || hasScope(principal, "EVENTS_ALL"),
      partnerId: principal.partnerId,
      canReadLineage: viewerOf(principal).canReadLineage,
    };
    return ctx.services.feed.page(reader, { after, first, types });
  }
}
