import { Field, Int, ObjectType } from "type-graphql";
import { DateScalar, DateTimeScalar } from "../http/scalars.ts";
import {
  CardNumberErrorCodeEnum,
  CardStateEnum,
  CardVersionEnum,
  CheckResultEnum,
  HolderStatusEnum,
  SexEnum,
} from "./card.enums.ts";

type Values<T> = T[keyof T];

@ObjectType({ simpleResolvers: true, description: "A country (ISO 3166-1)." })
export class Country {
  @Field(() => String, { description: "ISO 3166-1 alpha-3 code, as in V2017 numbers." })
  alpha3!: string;

  @Field(() => String, { description: "ISO 3166-1 numeric code (3 digits), as in V2023 numbers." })
  numeric!: string;

  @Field(() => String, { description: "English short name." })
  name!: string;
}

@ObjectType({ simpleResolvers: true, description: "A province-level division of China (GB/T 2260)." })
export class Province {
  @Field(() => String, { description: "Two-digit GB/T 2260 code, e.g. 11 for Beijing." })
  code!: string;

  @Field(() => String, { description: "English name." })
  name!: string;
}

@ObjectType({ simpleResolvers: true, description: "One reason a card number is not well-formed." })
export class CardNumberError {
  @Field(() => CardNumberErrorCodeEnum, { description: "Machine-readable reason." })
  code!: Values<typeof CardNumberErrorCodeEnum>;

  @Field(() => String, { description: "Human-readable explanation, in English." })
  message!: string;
}

@ObjectType({ simpleResolvers: true, description: "A card number taken apart. Parsing never fails: problems are listed in errors." })
export class ParsedCardNumber {
  @Field(() => String, { description: "The input exactly as given." })
  input!: string;

  @Field(() => String, {
    nullable: true,
    description: "Trimmed, spaces and hyphens removed, full-width characters to ASCII, upper-case. Null when empty.",
  })
  normalized!: string | null;

  @Field(() => Boolean, { description: "True when the number is a well-formed V2017 or V2023 number." })
  valid!: boolean;

  @Field(() => CardVersionEnum, { nullable: true, description: "The card generation the number's shape belongs to." })
  version!: Values<typeof CardVersionEnum> | null;

  @Field(() => Country, { nullable: true, description: "Nationality encoded in the number." })
  nationality!: Country | null;

  @Field(() => Province, { nullable: true, description: "Province where the card was applied for." })
  province!: Province | null;

  @Field(() => DateScalar, { nullable: true, description: "Date of birth encoded in the number." })
  birthDate!: string | null;

  @Field(() => SexEnum, {
    nullable: true,
    description: "V2023 only, from the sequence code's parity. Informational: the rule is unconfirmed for FPR cards.",
  })
  sex!: Values<typeof SexEnum> | null;

  @Field(() => [CardNumberError], { description: "Every problem found; empty when valid." })
  errors!: CardNumberError[];
}

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
