import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeScalar, JSONScalar } from "../http/scalars.ts";

export const EventTypeEnum = {
  CARD_ISSUED: "CARD_ISSUED",
  CARD_SUPERSEDED: "CARD_SUPERSEDED",
  CARD_REPORTED_LOST: "CARD_REPORTED_LOST",
  CARD_REVOKED: "CARD_REVOKED",
  CARD_EXPIRED: "CARD_EXPIRED",
  HOLDER_STATUS_CHANGED: "HOLDER_STATUS_CHANGED",
} as const;
registerEnumType(EventTypeEnum, {
  name: "EventType",
  description: "What changed.",
  valuesConfig: {
    CARD_ISSUED: { description: "A card instance was issued (first card, re-issue, or V2017 → V2023 switch)." },
    CARD_SUPERSEDED: { description: "An instance was replaced by a newer instance or a V2023 number." },
    CARD_REPORTED_LOST: { description: "An instance was reported lost." },
    CARD_REVOKED: { description: "A card was cancelled by the authority." },
    CARD_EXPIRED: { description: "An instance passed its validUntil date." },
    HOLDER_STATUS_CHANGED: { description: "The holder's permanent-residence status changed." },
  },
});

@ObjectType({ simpleResolvers: true, description: "One change on the register. The same event is pushed by webhook and pulled from changes." })
export class CardEvent {
  @Field(() => ID, { description: 'Event id, "evt_<sequence>"; the same value is the webhook-id header.' })
  id!: string;

  @Field(() => Int, { description: "Strictly increasing over the whole hub: apply an event only if newer than what you hold." })
  sequence!: number;

  @Field(() => EventTypeEnum, { description: "What changed." })
  type!: string;

  @Field(() => DateTimeScalar, { description: "When the change was committed." })
  occurredAt!: string;

  @Field(() => String, { description: "The card number the event is about." })
  cardNumber!: string;

  @Field(() => Int, { description: "The issue count of the instance the event is about." })
  issueCount!: number;

  @Field(() => JSONScalar, {
    description:
      "sequence, cardNumber, issueCount, version, state, previousState, holderStatus, validUntil; previousNumber and currentNumber only with LINEAGE_READ.",
  })
  data!: Record<string, unknown>;
}

@ObjectType({ simpleResolvers: true, description: "An event with its cursor." })
export class CardEventEdge {
  @Field(() => String, { description: "Pass as `after` to continue after this event." })
  cursor!: string;

  @Field(() => CardEvent, { description: "The event." })
  node!: CardEvent;
}

@ObjectType({ simpleResolvers: true, description: "Where a page ends." })
export class PageInfo {
  @Field(() => String, { nullable: true, description: "Cursor of the last edge; keep it to resume after downtime." })
  endCursor!: string | null;

  @Field(() => Boolean, { description: "True when more events follow this page." })
  hasNextPage!: boolean;
}

@ObjectType({ simpleResolvers: true, description: "A page of the change feed, in sequence order." })
export class CardEventConnection {
  @Field(() => [CardEventEdge], { description: "The events of this page." })
  edges!: CardEventEdge[];

  @Field(() => PageInfo, { description: "Paging information." })
  pageInfo!: PageInfo;
}
