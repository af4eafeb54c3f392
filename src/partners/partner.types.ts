import { Field, ID, ObjectType } from "type-graphql";
import { Province } from "../card-numbers/card-number.types.ts";
import { DateTimeScalar } from "../http/scalars.ts";
import {
  AdaptationStateEnum,
  ConformanceStateEnum,
  CoverageLevelEnum,
  IndustryEnum,
  RoleEnum,
  ScopeEnum,
} from "./partner.enums.ts";

@ObjectType({ simpleResolvers: true, description: "Evidence that a partner's systems recognize V2023 cards." })
export class Adaptation {
  @Field(() => AdaptationStateEnum, { description: "What the partner declared." })
  declared!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it last declared." })
  declaredAt!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "Last time this partner checked a V2023 number that exists." })
  lastV2023CheckAt!: string | null;

  @Field(() => ConformanceStateEnum, { description: "Result of the latest conformance probe." })
  conformance!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the latest probe finished." })
  conformanceAt!: string | null;

  @Field(() => CoverageLevelEnum, { description: "Highest of: VERIFIED (probe passed), OBSERVED, DECLARED (READY), NONE." })
  level!: string;
}

@ObjectType({ simpleResolvers: true, description: "An industry organization whose systems use the hub." })
export class Partner {
  @Field(() => ID, { description: "Partner id." })
  id!: string;

  @Field(() => String, { description: "Organization name." })
  name!: string;

  @Field(() => IndustryEnum, { description: "Industry served." })
  industry!: string;

  @Field(() => Province, { nullable: true, description: "Home province, when regional." })
  province!: Province | null;

  @Field(() => Adaptation, { description: "V2023 adaptation evidence." })
  adaptation!: Adaptation;

  @Field(() => DateTimeScalar, { description: "When the partner was registered." })
  createdAt!: string;
}

@ObjectType({ simpleResolvers: true, description: "An API key. The secret itself is never stored." })
export class ApiKey {
  @Field(() => ID, { description: "Key id (not the secret)." })
  id!: string;

  @Field(() => ID, { nullable: true, description: "The partner the key belongs to (PARTNER keys)." })
  partnerId!: string | null;

  @Field(() => RoleEnum, { description: "The key's role." })
  role!: string;

  @Field(() => [ScopeEnum], { description: "The key's scopes, within what its role allows." })
  scopes!: string[];

  @Field(() => String, { description: "First characters of the secret, for recognition." })
  prefix!: string;

  @Field(() => DateTimeScalar, { description: "When the key was created." })
  createdAt!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "Last use, to within a minute." })
  lastUsedAt!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the key was revoked; revoked keys are refused (by every api process within 1 s)." })
  revokedAt!: string | null;
}

@ObjectType({ simpleResolvers: true, description: "A new API key with its secret, shown this once." })
export class CreatedApiKey {
  @Field(() => ApiKey, { description: "The key's record." })
  apiKey!: ApiKey;

  @Field(() => String, { description: "The secret for `Authorization: Bearer`; shown once, never stored." })
  secret!: string;
}
