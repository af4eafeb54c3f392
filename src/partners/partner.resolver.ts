import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import type { HubContext } from "../api/context.ts";
import { AdaptationStateEnum, IndustryEnum, RoleEnum, ScopeEnum } from "./partner.enums.ts";
import { ApiKey, CreatedApiKey, Partner } from "./partner.types.ts";
import type { Role } from "./roles.ts";

@Resolver()
export class PartnerResolver {
  @Authorized()
  @Query(() => Partner, { nullable: true, description: "The caller's own partner record; null for keys without a partner." })
  me(@Ctx() ctx: HubContext): Partner | null {
    const partnerId = ctx.principal?.partnerId;
    return partnerId ? ctx.services.partners.get(partnerId) : null;
  }

  @Authorized()
  @Query(() => [Partner], { description: "Admin, viewer: every partner, oldest first." })
  partners(@Ctx() ctx: HubContext): Partner[] {
    return ctx.services.partners.list();
  }

  @Authorized()
  @Mutation(() => Partner, { description: "Partner: declare how far your systems have adapted to V2023 numbers." })
  declareAdaptation(
    @Ctx() ctx: HubContext,
    @Arg("state", () => AdaptationStateEnum, { description: "NOT_STARTED, IN_PROGRESS or READY." }) state: string,
  ): Partner {
    return ctx.services.partners.declare(ctx.principal!.partnerId!, state);
  }

  @Authorized()
  @Mutation(() => Partner, { description: "Admin: register a partner organization." })
  createPartner(
    @Ctx() ctx: HubContext,
    @Arg("name", () => String, { description: "Organization name." }) name: string,
    @Arg("industry", () => IndustryEnum, { description: "Industry served." }) industry: string,
    @Arg("provinceCode", () => String, { nullable: true, description: "GB/T 2260 two-digit province code." })
    provinceCode?: string | null,
  ): Partner {
    return ctx.services.partners.create({ name, industry, provinceCode });
  }

  @Authorized()
  @Mutation(() => CreatedApiKey, {
    description: "Admin: create a key of any role but ISSUER (ISSUER keys write the register and are created on the hub's machine: fpr-hub key create), with at most the scopes of the calling key. The secret is in the answer, once.",
  })
  createApiKey(
    @Ctx() ctx: HubContext,
    @Arg("role", () => RoleEnum, { description: "The key's role." }) role: Role,
    @Arg("partnerId", () => ID, { nullable: true, description: "Required for PARTNER keys." }) partnerId?: string | null,
    @Arg("scopes", () => [ScopeEnum], {
      nullable: true,
      description: "A subset of the role's scopes that the calling key carries (others are FORBIDDEN); default the role's defaults the calling key carries.",
    })
    scopes?: string[] | null,
  ): CreatedApiKey {
    return ctx.services.apiKeys.create({ partnerId, role, scopes }, ctx.principal!);
  }

  @Authorized()
  @Mutation(() => ApiKey, { description: "Admin: revoke a key. This api process refuses it from the next request on; other api processes within 1 s." })
  revokeApiKey(@Ctx() ctx: HubContext, @Arg("id", () => ID, { description: "The key id." }) id: string): ApiKey {
    return ctx.services.apiKeys.revoke(id);
  }
}
