import { Field, InputType, Int } from "type-graphql";
import { DateScalar } from "../http/scalars.ts";
import { SexEnum } from "../card-numbers/card-number.enums.ts";

@InputType({ description: "A card instance to issue. Names are kept only as keyed digests." })
export class IssueCardInput {
  @Field(() => String, { description: "The card number (V2017 or V2023)." })
  number!: string;

  @Field(() => Int, { nullable: true, description: "Issue count; default 0. A re-issue of a V2023 number needs a higher one." })
  issueCount?: number | null;

  @Field(() => DateScalar, { description: "First day of validity." })
  validFrom!: string;

  @Field(() => DateScalar, { description: "Last day of validity; at most 10 years after validFrom." })
  validUntil!: string;

  @Field(() => String, { nullable: true, description: "V2017 → V2023 switch: the V2017 number, which becomes SUPERSEDED." })
  previousNumber?: string | null;

  @Field(() => String, { description: "Name as printed in English; stored only as a keyed digest." })
  englishName!: string;

  @Field(() => String, { nullable: true, description: "Chinese name, if any; stored only as a keyed digest." })
  chineseName?: string | null;

  @Field(() => SexEnum, { nullable: true, description: "Sex." })
  sex?: "MALE" | "FEMALE" | null;
}
