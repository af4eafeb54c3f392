import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver, UseMiddleware } from "type-graphql";
import { EventTypeEnum } from "../events/event.types.ts";
import type { HubContext } from "../api/context.ts";
import { EnumerationGuarded } from "../partners/enumeration.middleware.ts";
import { RateLimited } from "../partners/rate-limit.middleware.ts";
import { MAX_WATCH_BATCH, type Watcher } from "./watchlist.ts";
import type { DeliveryRow } from "./subscription.store.ts";
import { CreatedWebhookSubscription, WebhookDelivery, WebhookSubscription } from "./webhook.types.ts";

function watcherOf(ctx: HubContext): Watcher {
  return { keyId: ctx.principal!.keyId, partnerId: ctx.principal!.partnerId };
}

/** Every number given counts against the check limit, as in checkCards. */
const countNumbers = (args: Record<string, unknown>) => (Array.isArray(args.numbers) ? args.numbers.length : 1);

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return { ...row, id: String(row.id) };
}

@Resolver()
export class WebhookResolver {
  @Authorized()
  @Query(() => [WebhookSubscription], {
    description: "The partner's subscriptions this key may use: those created by a key whose scopes it all carries (others read as not found).",
  })
  webhookSubscriptions(@Ctx() ctx: HubContext): WebhookSubscription[] {
    return ctx.services.subscriptions.list(ctx.principal!);
  }

  @Authorized()
  @Query(() => [WebhookDelivery], { description: "The delivery log of a subscription this key may use, newest attempt first." })
  webhookDeliveries(
    @Ctx() ctx: HubContext,
    @Arg("subscriptionId", () => ID, { description: "The subscription." }) subscriptionId: string,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50, description: "Page size, 1 to 500." }) first: number,
    @Arg("after", () => String, { nullable: true, description: "Continue after this attempt id." }) after?: string | null,
  ): WebhookDelivery[] {
    return ctx.services.subscriptions.deliveries(ctx.principal!, subscriptionId, first ?? 50, after).map(toDelivery);
  }

  @Authorized()
  @Mutation(() => CreatedWebhookSubscription, { description: "Subscribe an endpoint; the signing secret is in the answer, once." })
  createWebhookSubscription(
    @Ctx() ctx: HubContext,
    @Arg("url", () => String, { description: "https URL (http allowed in development); private addresses are refused." }) url: string,
    @Arg("eventTypes", () => [EventTypeEnum], { description: "The event types to receive." }) eventTypes: string[],
  ): Promise<CreatedWebhookSubscription> {
    return ctx.services.subscriptions.create(ctx.principal!, url, eventTypes);
  }

  @Authorized()
  @Mutation(() => CreatedWebhookSubscription, { description: "New signing secret; the old one keeps signing beside it for 24 hours." })
  rotateWebhookSecret(@Ctx() ctx: HubContext, @Arg("id", () => ID, { description: "The subscription." }) id: string): CreatedWebhookSubscription {
    return ctx.services.subscriptions.rotateSecret(ctx.principal!, id);
  }

  @Authorized()
  @Mutation(() => WebhookSubscription, { description: "Stop deliveries until resumed." })
  pauseWebhookSubscription(@Ctx() ctx: HubContext, @Arg("id", () => ID, { description: "The subscription." }) id: string): WebhookSubscription {
    return ctx.services.subscriptions.pause(ctx.principal!, id);
  }

  @Authorized()
  @Mutation(() => WebhookSubscription, { description: "Re-enable a paused or disabled subscription (it then reads with the calling key: how a rotated key takes over one whose creating key was revoked); then replay what it missed." })
  resumeWebhookSubscription(@Ctx() ctx: HubContext, @Arg("id", () => ID, { description: "The subscription." }) id: string): WebhookSubscription {
    return ctx.services.subscriptions.resume(ctx.principal!, id);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Delete a subscription and its delivery log." })
  deleteWebhookSubscription(@Ctx() ctx: HubContext, @Arg("id", () => ID, { description: "The subscription." }) id: string): boolean {
    return ctx.services.subscriptions.delete(ctx.principal!, id);
  }

  @Authorized()
  @Mutation(() => WebhookDelivery, { description: "Send a webhook.test event through the normal delivery path." })
  async sendTestEvent(
    @Ctx() ctx: HubContext,
    @Arg("subscriptionId", () => ID, { description: "The subscription." }) subscriptionId: string,
  ): Promise<WebhookDelivery> {
    return toDelivery(await ctx.services.dispatch.sendTestEvent(ctx.principal!, subscriptionId));
  }

  @Authorized()
  @Mutation(() => Int, { description: "Queue again every event after a sequence that the subscription receives; returns how many." })
  replayEvents(
    @Ctx() ctx: HubContext,
    @Arg("subscriptionId", () => ID, { description: "The subscription." }) subscriptionId: string,
    @Arg("afterSequence", () => Int, { description: "Replay events with a greater sequence (0 for all)." }) afterSequence: number,
  ): Promise<number> {
    return ctx.services.dispatch.replay(ctx.principal!, subscriptionId, afterSequence);
  }

  @Authorized()
  @UseMiddleware(RateLimited("check", countNumbers))
  // A watch's events say whether a number exists and whose it is: guessed numbers count as checks do.
  @UseMiddleware(EnumerationGuarded("CHECK", (args) => (Array.isArray(args.numbers) && args.numbers.length <= MAX_WATCH_BATCH ? args.numbers : [])))
  @Mutation(() => Int, {
    description:
      "CARDS_CHECK: watch the cards of your customers, by number (each counts and is audited as a check). Follows renewals; follows a V2017 → V2023 switch only for keys with LINEAGE_READ. Returns how many of the distinct numbers given were not yet on your list: nothing about whether a number exists.",
  })
  watchCards(@Ctx() ctx: HubContext, @Arg("numbers", () => [String], { description: "Up to 1,000 card numbers." }) numbers: string[]): number {
    return ctx.services.watchlist.watch(watcherOf(ctx), numbers);
  }

  @Authorized()
  @UseMiddleware(RateLimited("check", countNumbers))
  @Mutation(() => Int, { description: "CARDS_CHECK: stop watching card numbers (each counts and is audited as a check); returns how many were on your list." })
  unwatchCards(@Ctx() ctx: HubContext, @Arg("numbers", () => [String], { description: "Up to 1,000 card numbers." }) numbers: string[]): number {
    return ctx.services.watchlist.unwatch(watcherOf(ctx), numbers);
  }
}
