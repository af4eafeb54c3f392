import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateScalar, DateTimeScalar, JSONScalar } from "../http/scalars.ts";
import { ConformanceStateEnum } from "../partners/partner.enums.ts";
import { SubscriptionStatusEnum } from "../webhooks/webhook.types.ts";

export const CoverageGroupEnum = { INDUSTRY: "INDUSTRY", PROVINCE: "PROVINCE" } as const;
registerEnumType(CoverageGroupEnum, { name: "CoverageGroup", description: "How rollout coverage is grouped." });

export const MigrationGroupEnum = { TOTAL: "TOTAL", PROVINCE: "PROVINCE", NATIONALITY: "NATIONALITY" } as const;
registerEnumType(MigrationGroupEnum, { name: "MigrationGroup", description: "How migration progress is grouped." });

const EndpointBreakerStateEnum = { CLOSED: "CLOSED", PARKED: "PARKED", PROBING: "PROBING" } as const;
registerEnumType(EndpointBreakerStateEnum, {
  name: "EndpointBreakerState",
  description: "The circuit breaker of a subscription's endpoint: after repeated failures in a row the hub stops sending to it for a while, so a failing endpoint costs only itself.",
  valuesConfig: {
    CLOSED: { description: "Deliveries flow as usual." },
    PARKED: { description: "Failed repeatedly: nothing is sent until parkedUntil (or while its probe is out), and what it is owed waits without spending retry attempts." },
    PROBING: { description: "The park is over: the next attempt is a single probe; its success closes the breaker and everything owed flows, its failure parks the endpoint again, for twice as long (up to a limit)." },
  },
});

@ObjectType({ simpleResolvers: true, description: "Partners of one industry or province by their strongest evidence of V2023 adaptation." })
export class CoverageRow {
  @Field(() => String, { description: "Industry enum value, two-digit province code, or NATIONWIDE." })
  key!: string;

  @Field(() => String, { description: "Human-readable name." })
  label!: string;

  @Field(() => Int, { description: "Partners in the group." })
  partners!: number;

  @Field(() => Int, { description: "Partners whose strongest evidence is a READY declaration." })
  declared!: number;

  @Field(() => Int, { description: "Partners whose strongest evidence is recent checks of existing V2023 numbers (30 days)." })
  observed!: number;

  @Field(() => Int, { description: "Partners that passed a conformance probe." })
  verified!: number;

  @Field(() => Float, { description: "(observed + verified) / partners: the share with evidence beyond a declaration." })
  ratio!: number;
}

@ObjectType({ simpleResolvers: true, description: "Active holders of one group and how many have switched to a V2023 card." })
export class MigrationRow {
  @Field(() => String, { description: "TOTAL, a two-digit province code, or an ISO 3166 numeric nationality." })
  key!: string;

  @Field(() => String, { description: "Human-readable name." })
  label!: string;

  @Field(() => Int, { description: "Holders whose permanent residence is ACTIVE." })
  activeHolders!: number;

  @Field(() => Int, { description: "Of those, holders whose current card is V2023." })
  onV2023!: number;

  @Field(() => Float, { description: "onV2023 / activeHolders." })
  ratio!: number;
}

@ObjectType({ simpleResolvers: true, description: "Active holders and V2023 holders at the end of one week." })
export class MigrationPoint {
  @Field(() => DateScalar, { description: "Monday the week starts (dates in China)." })
  periodStart!: string;

  @Field(() => Int, { description: "Active holders at the end of the week: counted from their first card's validFrom until their residence ended." })
  activeHolders!: number;

  @Field(() => Int, { description: "Of those, holders on a V2023 card (from their first V2023 card's validFrom)." })
  onV2023!: number;
}

@ObjectType({ simpleResolvers: true, description: "How well changes reach one subscription." })
export class DeliveryHealthRow {
  @Field(() => ID, { description: "The subscription." })
  subscriptionId!: string;

  @Field(() => String, { description: "Its partner." })
  partnerName!: string;

  @Field(() => SubscriptionStatusEnum, { description: "Whether it receives deliveries." })
  status!: string;

  @Field(() => Int, { description: "Events delivered (answered 2xx)." })
  delivered!: number;

  @Field(() => Int, { description: "Events attempted but not delivered: waiting for a retry, or dead." })
  failed!: number;

  @Field(() => Float, { description: "delivered / (delivered + failed); 0 before any delivery was attempted." })
  successRatio!: number;

  @Field(() => Float, { nullable: true, description: "Median time from the event to the 2xx, in milliseconds." })
  p50LatencyMs!: number | null;

  @Field(() => Float, { nullable: true, description: "99th percentile of the same." })
  p99LatencyMs!: number | null;

  @Field(() => Int, { description: "Deliveries the hub still owes it, from the delivery ledger: events committed for it that are not yet delivered, dead, or found not owed." })
  owed!: number;

  @Field(() => EndpointBreakerStateEnum, { description: "Its endpoint's circuit breaker." })
  breaker!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the endpoint's current or last park ends (while a probe is out, when the probe's hold lapses); null when the breaker is closed." })
  parkedUntil!: string | null;
}

@ObjectType({ simpleResolvers: true, description: "One conformance probe of a partner's endpoint." })
export class ConformanceRun {
  @Field(() => ID, { description: "Run id; also the probe's webhook-id." })
  id!: string;

  @Field(() => ID, { description: "The partner probed." })
  partnerId!: string;

  @Field(() => ConformanceStateEnum, { description: "RUNNING until graded, then PASSED or FAILED." })
  state!: string;

  @Field(() => DateTimeScalar, { description: "When the probe was requested." })
  startedAt!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it was graded." })
  finishedAt!: string | null;

  @Field(() => JSONScalar, { nullable: true, description: "Per item: number, what it tests, expected and given classification; or why it failed." })
  detail!: Record<string, unknown> | null;
}
