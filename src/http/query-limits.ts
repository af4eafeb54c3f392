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

/** What one operation's text allows, computed once per parsed document (Apollo caches documents by query text). */
interface OperationLimits {
  /** Depth or alias refusal, the same for every request of this operation. */
  refusal: string | null;
  /** Complexity by the shape of the variables (list lengths and numbers count, strings do not). */
  complexity: Map<string, number>;
}

const MAX_SHAPES_PER_OPERATION = 64;
const measured = new WeakMap<OperationDefinitionNode, OperationLimits>();

function limitsOf(document: DocumentNode, operation: OperationDefinitionNode): OperationLimits {
  let limits = measured.get(operation);
  if (limits) return limits;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const { depth, aliases } = measure(operation.selectionSet, fragments, 1, new Set());
  const refusal =
    depth > QUERY_LIMITS.maxDepth
      ? `query is nested ${depth} levels deep; the limit is ${QUERY_LIMITS.maxDepth}`
      : aliases > QUERY_LIMITS.maxAliases
        ? `query uses ${aliases} aliases; the limit is ${QUERY_LIMITS.maxAliases}`
        : null;
  limits = { refusal, complexity: new Map() };
  measured.set(operation, limits);
  return limits;
}

/** The variables with every string emptied: the estimators read list lengths and numbers only. */
function shapeOf(variables: Record<string, unknown>): string {
  return JSON.stringify(variables, (_key, value) => (typeof value === "string" ? "" : value));
}

export function checkQueryLimits(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): void {
  if (isIntrospectionOnly(operation)) return;
  const limits = limitsOf(document, operation);
  if (limits.refusal) throw tooComplex(limits.refusal);
  const shape = shapeOf(variables);
  let complexity = limits.complexity.get(shape);
  if (complexity === undefined) {
    if (getVariableValues(schema, operation.variableDefinitions ?? [], variables).errors) return; // invalid variables: execution refuses them (400 BAD_USER_INPUT) before any resolver runs
    complexity = getComplexity({
      schema,
      query: document,
      operationName: operation.name?.value,
      variables,
      estimators: [listEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
    if (limits.complexity.size >= MAX_SHAPES_PER_OPERATION) limits.complexity.clear();
    limits.complexity.set(shape, complexity);
  }
  if (complexity > QUERY_LIMITS.maxComplexity) {
    throw tooComplex(`query complexity ${complexity} exceeds ${QUERY_LIMITS.maxComplexity}; ask for fewer fields or split the request`);
  }
}
