import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { buildSchemaSync, type AuthChecker } from "type-graphql";
import { CardNumberResolver } from "../card-numbers/card-number.resolver.ts";
import { CardResolver } from "../cards/card.resolver.ts";
import { CoverageResolver } from "../coverage/coverage.resolver.ts";
import { VerificationResolver } from "../verification/verification.resolver.ts";
import { ChangesResolver } from "../events/changes.resolver.ts";
import { requireAccess } from "../partners/access-rules.ts";
import { PartnerResolver } from "../partners/partner.resolver.ts";
import { WebhookResolver } from "../webhooks/webhook.resolver.ts";
import type { HubContext } from "./context.ts";

/** Every root field carries @Authorized(); the rule itself comes from the one access table. */
const authChecker: AuthChecker<HubContext> = ({ context, info }) => {
  requireAccess(info.fieldName, context.principal, context.authFailure);
  return true;
};

const RESOLVERS = [CardNumberResolver, CardResolver, VerificationResolver, ChangesResolver, PartnerResolver, WebhookResolver, CoverageResolver] as const;

let cached: GraphQLSchema | undefined;

/**
 * The hub's schema, built once per process from the resolver classes. Every object type is declared
 * with `simpleResolvers: true`: their fields are plain properties (no field resolvers, no field
 * middleware), so graphql-js reads them without a type-graphql wrapper per field.
 */
export function buildHubSchema(): GraphQLSchema {
  cached ??= buildSchemaSync({ resolvers: [...RESOLVERS], authChecker, authMode: "error", validate: false });
  return cached;
}
