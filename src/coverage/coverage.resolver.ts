import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { HubError } from "../errors.ts";
import type { HubContext } from "../api/context.ts";
import { CoverageGroupEnum, ConformanceRun, CoverageRow, DeliveryHealthRow, MigrationGroupEnum, MigrationPoint, MigrationRow } from "./coverage.types.ts";

@Resolver()
export class CoverageResolver {
  @Authorized()
  @Query(() => [CoverageRow], { description: "Admin, viewer: partners by evidence of V2023 adaptation, per industry or province." })
  rolloutCoverage(@Ctx() ctx: HubContext, @Arg("groupBy", () => CoverageGroupEnum, { description: "Grouping." }) groupBy: "INDUSTRY" | "PROVINCE"): CoverageRow[] {
    return ctx.services.coverage.rolloutCoverage(groupBy);
  }

  @Authorized()
  @Query(() => [MigrationRow], { description: "Admin, viewer: active holders and how many are on V2023, in total or per province or nationality." })
  migrationProgress(
    @Ctx() ctx: HubContext,
    @Arg("groupBy", () => MigrationGroupEnum, { description: "Grouping." }) groupBy: "TOTAL" | "PROVINCE" | "NATIONALITY",
  ): MigrationRow[] {
    return ctx.services.coverage.migrationProgress(groupBy);
  }

  @Authorized()
  @Query(() => [MigrationPoint], { description: "Admin, viewer: active holders and V2023 holders per week, oldest first." })
  migrationTimeline(
    @Ctx() ctx: HubContext,
    @Arg("weeks", () => Int, { nullable: true, defaultValue: 52, description: "How many weeks back, 1 to 520." }) weeks: number,
  ): MigrationPoint[] {
    return ctx.services.timeline.points(ctx.services.coverage.requireWeeks(weeks ?? 52));
  }

  @Authorized()
  @Query(() => [DeliveryHealthRow], { description: "Admin, viewer: deliveries, failures and latency per subscription." })
  deliveryHealth(@Ctx() ctx: HubContext): DeliveryHealthRow[] {
    return ctx.services.deliveryHealth.rows();
  }

  @Authorized()
  @Query(() => ConformanceRun, { nullable: true, description: "Admin, viewer: one conformance probe and its graded detail." })
  conformanceRun(@Ctx() ctx: HubContext, @Arg("id", () => ID, { description: "The run id." }) id: string): ConformanceRun | null {
    return ctx.services.conformance.get(id);
  }

  @Authorized()
  @Mutation(() => ConformanceRun, { description: "Admin: probe a partner's webhook endpoint with synthetic numbers; graded in the background." })
  async runConformanceProbe(@Ctx() ctx: HubContext, @Arg("partnerId", () => ID, { description: "The partner." }) partnerId: string): Promise<ConformanceRun> {
    const run = ctx.services.conformance.start(partnerId);
    const queues = ctx.services.queues;
    if (!queues) throw new HubError("INTERNAL_SERVER_ERROR", "the probe queue is not connected");
    await queues.addConformanceProbe(run.id);
    return run;
  }
}
