import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateScalar } from "../http/scalars.ts";
import { CardCheck } from "../cards/card.types.ts";

const VerificationResultEnum = {
  MATCH: "MATCH",
  NO_MATCH: "NO_MATCH",
  CARD_NOT_VALID: "CARD_NOT_VALID",
  NOT_FOUND: "NOT_FOUND",
  MALFORMED: "MALFORMED",
} as const;
registerEnumType(VerificationResultEnum, {
  name: "VerificationResult",
  description: "Whether the details given match the holder of a valid card. The answer never contains the holder's data.",
  valuesConfig: {
    MATCH: { description: "The card is valid and every detail given matches its holder." },
    NO_MATCH: { description: "The card is valid but at least one detail given does not match." },
    CARD_NOT_VALID: { description: "The card is not valid (see check.result); details were not compared." },
    NOT_FOUND: { description: "The number (or issue count) is not on the register." },
    MALFORMED: { description: "Not a well-formed card number (see check.parse.errors)." },
  },
});

@InputType({ description: "A card and the holder details to confirm; give at least one detail." })
export class VerifyHolderInput {
  @Field(() => String, { description: "The card number as typed." })
  number!: string;

  @Field(() => Int, { nullable: true, description: "The instance read from the chip, if known." })
  issueCount?: number | null;

  @Field(() => String, {
    nullable: true,
    description: "English name as printed; case, punctuation, spacing and word order (\"SURNAME, GIVEN\") do not matter.",
  })
  englishName?: string | null;

  @Field(() => String, { nullable: true, description: "Chinese name, if the holder has one." })
  chineseName?: string | null;

  @Field(() => DateScalar, { nullable: true, description: "Date of birth." })
  birthDate?: string | null;
}

@ObjectType({ simpleResolvers: true, description: "The answer to a holder verification." })
export class Verification {
  @Field(() => VerificationResultEnum, { description: "MATCH, NO_MATCH, or why details were not compared." })
  result!: string;

  @Field(() => CardCheck, { description: "The card check the verification rests on." })
  check!: CardCheck;

  @Field(() => ID, { description: "The audit record of this verification, to quote in disputes." })
  auditId!: string;
}
