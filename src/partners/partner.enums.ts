import { registerEnumType } from "type-graphql";
import { ADAPTATION_STATES, CONFORMANCE_STATES, INDUSTRIES } from "./partner-service.ts";
import { ROLES, SCOPES } from "./roles.ts";

function enumOf<const T extends readonly string[]>(values: T): { [K in T[number]]: K } {
  return Object.fromEntries(values.map((value) => [value, value])) as { [K in T[number]]: K };
}

export const IndustryEnum = enumOf(INDUSTRIES);
registerEnumType(IndustryEnum, { name: "Industry", description: "The industry a partner's systems serve." });

export const RoleEnum = enumOf(ROLES);
registerEnumType(RoleEnum, {
  name: "Role",
  description: "What an API key is for.",
  valuesConfig: {
    ISSUER: { description: "The authority's card system: pushes issuance, loss, revocation and holder changes." },
    PARTNER: { description: "An industry system: checks cards, verifies holders, receives changes." },
    ADMIN: { description: "Hub operators: partners, keys, probes, dashboard." },
    VIEWER: { description: "Read-only dashboard access." },
  },
});

export const ScopeEnum = enumOf(SCOPES);
registerEnumType(ScopeEnum, {
  name: "Scope",
  description: "A permission carried by a key, within what its role allows.",
  valuesConfig: {
    CARDS_CHECK: { description: "checkCard and checkCards." },
    HOLDERS_VERIFY: { description: "verifyHolder." },
    LINEAGE_READ: { description: "See old ↔ new numbers (previousNumber, currentNumber, lineage in events) and exact Card.stateChangedAt (else to the day)." },
    EVENTS_ALL: {
      description:
        "See every event, not only those of watched cards. A switch's card.superseded and card.issued are adjacent in the feed, so this scope shows lineage by order: grant it only where LINEAGE_READ would be acceptable.",
    },
    WEBHOOKS_MANAGE: { description: "Manage the partner's own webhook subscriptions." },
  },
});

export const AdaptationStateEnum = enumOf(ADAPTATION_STATES);
registerEnumType(AdaptationStateEnum, {
  name: "AdaptationState",
  description: "How far a partner says it has adapted its systems to V2023 numbers.",
});

export const ConformanceStateEnum = enumOf(CONFORMANCE_STATES);
registerEnumType(ConformanceStateEnum, { name: "ConformanceState", description: "Result of the latest conformance probe." });

export const CoverageLevelEnum = enumOf(["NONE", "DECLARED", "OBSERVED", "VERIFIED"] as const);
registerEnumType(CoverageLevelEnum, {
  name: "CoverageLevel",
  description: "The strongest evidence that a partner recognizes V2023 cards.",
  valuesConfig: {
    NONE: { description: "No evidence." },
    DECLARED: { description: "The partner declared READY." },
    OBSERVED: { description: "The partner's traffic checked existing V2023 numbers." },
    VERIFIED: { description: "A conformance probe passed." },
  },
});
