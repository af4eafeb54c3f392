/** The GraphQL enums of a parsed card number (the values of card-number-result.ts's types). */
import { registerEnumType } from "type-graphql";

export const CardVersionEnum = { V2017: "V2017", V2023: "V2023" } as const;
registerEnumType(CardVersionEnum, {
  name: "CardVersion",
  description: "The card's generation.",
  valuesConfig: {
    V2017: { description: "15 characters: 3 letters (nationality, ISO alpha-3) and 12 digits." },
    V2023: { description: "18 digits starting with 9, issued from 2023-12-01; one number for life." },
  },
});

export const SexEnum = { MALE: "MALE", FEMALE: "FEMALE" } as const;
registerEnumType(SexEnum, { name: "Sex", description: "Sex as encoded in a V2023 number (informational)." });

export const CardNumberErrorCodeEnum = {
  EMPTY: "EMPTY",
  BAD_CHARACTERS: "BAD_CHARACTERS",
  WRONG_LENGTH: "WRONG_LENGTH",
  NOT_FOREIGNER_NUMBER: "NOT_FOREIGNER_NUMBER",
  UNKNOWN_PROVINCE: "UNKNOWN_PROVINCE",
  UNKNOWN_NATIONALITY: "UNKNOWN_NATIONALITY",
  BAD_BIRTH_DATE: "BAD_BIRTH_DATE",
  BAD_CHECK_DIGIT: "BAD_CHECK_DIGIT",
} as const;
registerEnumType(CardNumberErrorCodeEnum, {
  name: "CardNumberErrorCode",
  description: "Why a card number is not a well-formed FPR number.",
  valuesConfig: {
    EMPTY: { description: "Nothing was given (after removing spaces and hyphens)." },
    BAD_CHARACTERS: { description: "Characters other than letters and digits." },
    WRONG_LENGTH: { description: "FPR numbers have 15 (V2017) or 18 (V2023) characters." },
    NOT_FOREIGNER_NUMBER: {
      description: "Another document's number: a Chinese citizen ID, a Hong Kong/Macao/Taiwan residence permit, a passport.",
    },
    UNKNOWN_PROVINCE: { description: "The province code is not a GB/T 2260 province." },
    UNKNOWN_NATIONALITY: { description: "The nationality code is not an ISO 3166 country of a foreigner." },
    BAD_BIRTH_DATE: { description: "The birth date is not a real past date." },
    BAD_CHECK_DIGIT: { description: "The V2023 check character (ISO 7064 MOD 11-2) does not match: a typo." },
  },
});
