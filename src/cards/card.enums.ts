import { registerEnumType } from "type-graphql";

export const CardStateEnum = {
  VALID: "VALID",
  EXPIRED: "EXPIRED",
  SUPERSEDED: "SUPERSEDED",
  REPORTED_LOST: "REPORTED_LOST",
  REVOKED: "REVOKED",
} as const;
registerEnumType(CardStateEnum, {
  name: "CardState",
  description: "The state of one card instance.",
  valuesConfig: {
    VALID: { description: "Issued and within its validity period." },
    EXPIRED: { description: "Past its validUntil date." },
    SUPERSEDED: { description: "Replaced by a newer instance of the same number, or by a V2023 number." },
    REPORTED_LOST: { description: "Reported lost; never valid again." },
    REVOKED: { description: "Cancelled by the authority; never valid again." },
  },
});

export const HolderStatusEnum = {
  ACTIVE: "ACTIVE",
  CANCELLED: "CANCELLED",
  NATURALIZED: "NATURALIZED",
  DECEASED: "DECEASED",
} as const;
registerEnumType(HolderStatusEnum, {
  name: "HolderStatus",
  description: "The holder's permanent-residence status. A valid card of a holder who is not ACTIVE is not recognized.",
  valuesConfig: {
    ACTIVE: { description: "Permanent residence in force." },
    CANCELLED: { description: "Permanent residence cancelled." },
    NATURALIZED: { description: "Became a Chinese citizen (final)." },
    DECEASED: { description: "Deceased (final)." },
  },
});

export const CheckResultEnum = {
  VALID: "VALID",
  EXPIRED: "EXPIRED",
  SUPERSEDED: "SUPERSEDED",
  REPORTED_LOST: "REPORTED_LOST",
  REVOKED: "REVOKED",
  HOLDER_INACTIVE: "HOLDER_INACTIVE",
  NOT_FOUND: "NOT_FOUND",
  MALFORMED: "MALFORMED",
} as const;
registerEnumType(CheckResultEnum, {
  name: "CheckResult",
  description: "The answer to a card check. Only VALID is recognized.",
  valuesConfig: {
    VALID: { description: "A valid card of an active holder: accept it." },
    EXPIRED: { description: "The card is past its validUntil date." },
    SUPERSEDED: { description: "A newer card replaces this one; ask the holder for it." },
    REPORTED_LOST: { description: "The card was reported lost." },
    REVOKED: { description: "The card was cancelled by the authority." },
    HOLDER_INACTIVE: { description: "The card is valid but the holder's permanent residence is not active." },
    NOT_FOUND: { description: "A well-formed number (or issue count) that is not on the register." },
    MALFORMED: { description: "Not a well-formed FPR card number; see parse.errors." },
  },
});
