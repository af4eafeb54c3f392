import { Field, Int, ObjectType } from "type-graphql";
import { CardVersionEnum } from "../card-numbers/card-number.enums.ts";
import { ParsedCardNumber } from "../card-numbers/card-number.types.ts";
import { DateScalar, DateTimeScalar } from "../http/scalars.ts";
import { CardStateEnum, CheckResultEnum, HolderStatusEnum } from "./card.enums.ts";

type Values<T> = T[keyof T];

@ObjectType({ simpleResolvers: true, description: "One card instance: a number and its issue count." })
export class Card {
  @Field(() => String, { description: "The card number, normalized." })
  number!: string;

  @Field(() => Int, { description: "Issue count (换证次数) of this instance; a replacement keeps the number and counts up." })
  issueCount!: number;

  @Field(() => CardVersionEnum, { description: "Card generation." })
  version!: Values<typeof CardVersionEnum>;

  @Field(() => CardStateEnum, { description: "State of this instance; EXPIRED is derived from validUntil when read." })
  state!: Values<typeof CardStateEnum>;

  @Field(() => DateScalar, { description: "First day of validity (date in China)." })
  validFrom!: string;

  @Field(() => DateScalar, { description: "Last day of validity (date in China)." })
  validUntil!: string;

  @Field(() => DateTimeScalar, {
    description:
      "When the instance entered its current state. Exact with LINEAGE_READ; without it, given to the day (midnight in China, UTC+8, e.g. 2024-04-30T16:00:00.000Z), as an issue and the supersession it causes share one instant.",
  })
  stateChangedAt!: string;

  @Field(() => HolderStatusEnum, { description: "The holder's permanent-residence status." })
  holderStatus!: Values<typeof HolderStatusEnum>;

  @Field(() => String, {
    nullable: true,
    description: "The V2017 number this V2023 card replaced. Needs the LINEAGE_READ scope, else null.",
  })
  previousNumber!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The holder's current number when it differs from this one. Needs LINEAGE_READ, else null.",
  })
  currentNumber!: string | null;
}

@ObjectType({ simpleResolvers: true, description: "The answer to a card check." })
export class CardCheck {
  @Field(() => String, { description: "The input exactly as given." })
  input!: string;

  @Field(() => String, { nullable: true, description: "The normalized number." })
  number!: string | null;

  @Field(() => Int, { nullable: true, description: "The instance checked: the one asked for, else the latest." })
  issueCount!: number | null;

  @Field(() => Int, { nullable: true, description: "The newest issue count on the register for this number." })
  latestIssueCount!: number | null;

  @Field(() => CheckResultEnum, { description: "The answer." })
  result!: Values<typeof CheckResultEnum>;

  @Field(() => Boolean, { description: "True only when result is VALID." })
  recognized!: boolean;

  @Field(() => Card, { nullable: true, description: "The instance checked, when it is on the register." })
  card!: Card | null;

  @Field(() => ParsedCardNumber, { description: "The number taken apart, with any format errors." })
  parse!: ParsedCardNumber;

  @Field(() => DateTimeScalar, { description: "When the hub answered." })
  checkedAt!: string;
}
