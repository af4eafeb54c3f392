import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DELIVERY_STATUSES, SUBSCRIPTION_STATUSES } from "../db/column-types.ts";
import { EventTypeEnum } from "../events/event.types.ts";
import { DateTimeScalar } from "../http/scalars.ts";

/** A GraphQL enum object ({ VALUE: "VALUE" }) from a column's list of values, in its order. */
function enumOf<const T extends readonly string[]>(values: T): { [K in T[number]]: K } {
  return Object.fromEntries(values.map((value) => [value, value])) as { [K in T[number]]: K };
}

export const SubscriptionStatusEnum = enumOf(SUBSCRIPTION_STATUSES);
registerEnumType(SubscriptionStatusEnum, {
  name: "SubscriptionStatus",
  description: "Whether a subscription receives deliveries.",
  valuesConfig: {
    ACTIVE: { description: "Receiving deliveries." },
    PAUSED: { description: "Paused by the partner; events meanwhile are not sent (replay them after resuming)." },
    DISABLED: { description: "Stopped by the hub (410 Gone, or prolonged failure); see disabledReason." },
  },
});

const DeliveryStatusEnum = enumOf(DELIVERY_STATUSES);
registerEnumType(DeliveryStatusEnum, {
  name: "DeliveryStatus",
  description: "The outcome of one delivery attempt.",
  valuesConfig: {
    PENDING: { description: "Being sent." },
    SUCCEEDED: { description: "The endpoint answered 2xx." },
    FAILED: { description: "Failed; it will be retried on the schedule." },
    DEAD: { description: "Failed for good (last attempt, or an answer that is not worth retrying); replayable." },
  },
});

@ObjectType({ simpleResolvers: true, description: "A partner's webhook endpoint." })
export class WebhookSubscription {
  @Field(() => ID, { description: "Subscription id." })
  id!: string;

  @Field(() => String, { description: "Where events are POSTed (https outside development)." })
  url!: string;

  @Field(() => [EventTypeEnum], { description: "The event types it receives." })
  eventTypes!: string[];

  @Field(() => SubscriptionStatusEnum, { description: "Whether it receives deliveries." })
  status!: string;

  @Field(() => String, { nullable: true, description: "Why the hub disabled it." })
  disabledReason!: string | null;

  @Field(() => DateTimeScalar, { description: "When it was created." })
  createdAt!: string;
}

@ObjectType({ simpleResolvers: true, description: "A subscription with its signing secret, shown this once." })
export class CreatedWebhookSubscription {
  @Field(() => WebhookSubscription, { description: "The subscription." })
  subscription!: WebhookSubscription;

  @Field(() => String, { description: "Standard Webhooks secret (whsec_…) to verify signatures; shown once." })
  secret!: string;
}

@ObjectType({ simpleResolvers: true, description: "One delivery attempt of one event to one subscription." })
export class WebhookDelivery {
  @Field(() => ID, { description: "Attempt id; pass as `after` to page on." })
  id!: string;

  @Field(() => ID, { description: "The event id (webhook-id header): evt_<sequence>, or test_… for test events." })
  eventId!: string;

  @Field(() => Int, { description: "Attempt number for this event and subscription, counting retries and replays." })
  attempt!: number;

  @Field(() => DeliveryStatusEnum, { description: "Outcome." })
  status!: string;

  @Field(() => Int, { nullable: true, description: "HTTP status the endpoint answered, if it answered." })
  responseStatus!: number | null;

  @Field(() => Int, { nullable: true, description: "Time from sending to the answer, in milliseconds." })
  latencyMs!: number | null;

  @Field(() => String, { nullable: true, description: "What went wrong (timeout, refused address, HTTP status)." })
  error!: string | null;

  @Field(() => DateTimeScalar, { description: "When the attempt started." })
  createdAt!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "When a 2xx answer arrived." })
  deliveredAt!: string | null;
}
