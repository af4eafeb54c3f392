import type { ApolloServerPlugin } from "@apollo/server";
import {
  GraphQLError,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  getVariableValues,
} from "graphql";
import { getComplexity, simpleEstimator, type ComplexityEstimator } from "graphql-query-complexity";
import type { HubContext } from "./context.ts";

export const QUERY_LIMITS = {
  /** Nesting depth of fields. */
  maxDepth: 8,
  /** Aliased fields in one operation (aliases multiply work without multiplying requests). */
  maxAliases: 20,
  /** Estimated fields resolved: one full 1,000-number checkCards is about 35,000. */
  maxComplexity: 50_000,
};

function tooComplex(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "QUERY_TOO_COMPLEX", http: { status: 400 } } });
}

/** List arguments multiply what is below them: checkCards(numbers), changes(first), …(first). */
const listEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  if (Array.isArray(args.numbers)) return Math.max(1, args.numbers.length) * (childComplexity + 1);
  if (typeof args.first === "number") return Math.max(1, args.first) * (childComplexity + 1);
  return undefined;
};

/** Depth and alias count of one operation, following fragments (each at most once per path). */
function measure(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, depth: number, seen: Set<string>): { depth: number; aliases: number } {
  let deepest = depth;
  let aliases = 0;
  for (const selection of set.selections) {
    let inner: { depth: number; aliases: number } | null = null;
    if (selection.kind === Kind.FIELD) {
      if (selection.alias) aliases += 1;
      if (selection.selectionSet) inner = measure(selection.selectionSet, fragments, depth + 1, seen);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      inner = measure(selection.selectionSet, fragments, depth, seen);
    } else {
      const fragment = fragments.get(selection.name.value);
      if (fragment && !seen.has(fragment.name.value)) inner = measure(fragment.selectionSet, fragments, depth, new Set([...seen, fragment.name.value]));
    }
    if (inner) {
      deepest = Math.max(deepest, inner.depth);
      aliases += inner.aliases;
    }
  }
  return { depth: deepest, aliases };
}

/** Introspection (off in production) is deep by nature: GraphQL tools must still work in development. */
function isIntrospectionOnly(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith("__"));
}

export function checkQueryLimits(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): void {
  if (isIntrospectionOnly(operation)) return;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const { depth, aliases } = measure(operation.selectionSet, fragments, 1, new Set());
  if (depth > QUERY_LIMITS.maxDepth) throw tooComplex(`query is nested ${depth} levels deep; the limit is ${QUERY_LIMITS.maxDepth}`);
  if (aliases > QUERY_LIMITS.maxAliases) throw tooComplex(`query uses ${aliases} aliases; the limit is ${QUERY_LIMITS.maxAliases}`);
  if (getVariableValues(schema, operation.variableDefinitions ?? [], variables).errors) return; // invalid variables: execution refuses them (400 BAD_USER_INPUT) before any resolver runs
  const complexity = getComplexity({
    schema,
    query: document,
    operationName: operation.name?.value,
    variables,
    estimators: [listEstimator, simpleEstimator({ defaultComplexity: 1 })],
  });
  if (complexity > QUERY_LIMITS.maxComplexity) {
    throw tooComplex(`query complexity ${complexity} exceeds ${QUERY_LIMITS.maxComplexity}; ask for fewer fields or split the request`);
  }
}

/** Refuses over-deep, alias-heavy or too costly operations before anything runs. */
export function queryLimitsPlugin(schema: GraphQLSchema): ApolloServerPlugin<HubContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (operation) checkQueryLimits(schema, document, operation, request.variables ?? {});
        },
      };
    },
  };
}
