/** The GraphQL object types of a parsed card number (parseCardNumber, CardCheck.parse, Partner.province). */
import { Field, ObjectType } from "type-graphql";
import { DateScalar } from "../http/scalars.ts";
import { CardNumberErrorCodeEnum, CardVersionEnum, SexEnum } from "./card-number.enums.ts";

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
