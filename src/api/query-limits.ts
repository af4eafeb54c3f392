import { GraphQLError, Kind, print, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, getVariableValues } from "graphql";
import { getComplexity, simpleEstimator, type ComplexityEstimator } from "graphql-query-complexity";
import { measureOperation, type OperationMeasure } from "./query-measure.ts";

export const QUERY_LIMITS = {
  /** Nesting depth of fields. */
  maxDepth: 8,
  /** Aliased fields in one operation (aliases multiply work without multiplying requests). */
  maxAliases: 20,
  /**
   * Field selections once every fragment is expanded where it is spread. The hub's largest real
   * operations select under 100; the complexity estimate walks this expansion, so it is bounded first.
   */
  maxFields: 2_000,
  /** Estimated fields resolved: one full 1,000-number checkCards is about 35,000. */
  maxComplexity: 50_000,
  /** Characters of one document's text (variables not included): a 1,000-number checkCards literal is about 22,000. */
  maxSourceLength: 100_000,
  /** Lexical tokens of one document, enforced by the parser: a 1,000-number checkCards literal is about 1,050. */
  maxTokens: 5_000,
  /**
   * Bytes of variable values once each is copied where the operation reads it: a 900 KB string
   * read 1,000 times in one list literal would otherwise cost the api a gigabyte.
   */
  maxVariableBytes: 1024 * 1024,
  /** Introspection types nest deeply by nature (type references): tools need about 13 levels. */
  maxIntrospectionDepth: 16,
  /** Introspection lists (`types`, `fields`, `args`, …) nested in one another: tools need 3. */
  maxIntrospectionLists: 3,
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

/** The cost estimate; its walk is bounded by the field limit checked before it (and by its own node cap). */
function estimateComplexity(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): number {
  try {
    return getComplexity({
      schema,
      query: document,
      operationName: operation.name?.value,
      variables,
      estimators: [listEstimator, simpleEstimator({ defaultComplexity: 1 })],
      maxQueryNodes: 5 * QUERY_LIMITS.maxFields,
    });
  } catch (error) {
    throw tooComplex(`query is too large to estimate: ${error instanceof Error ? error.message : "unknown reason"}`);
  }
}

/** Introspection (off in production) is deep by nature: GraphQL tools must still work in development. */
function isIntrospectionOnly(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith("__"));
}

/** The refusal an operation's shape earns whatever its variables, or null. */
function refusalOf(measure: OperationMeasure, introspection: boolean): string | null {
  if (measure.fields > QUERY_LIMITS.maxFields) {
    return `query selects more than ${QUERY_LIMITS.maxFields} fields once its fragments are expanded`;
  }
  if (introspection) {
    if (measure.depth > QUERY_LIMITS.maxIntrospectionDepth) {
      return `introspection query is nested ${measure.depth} levels deep; the limit is ${QUERY_LIMITS.maxIntrospectionDepth}`;
    }
    if (measure.introspectionLists > QUERY_LIMITS.maxIntrospectionLists) {
      return `introspection query nests ${measure.introspectionLists} lists; the limit is ${QUERY_LIMITS.maxIntrospectionLists}`;
    }
    if (measure.aliases > QUERY_LIMITS.maxAliases) return `query uses ${measure.aliases} aliases; the limit is ${QUERY_LIMITS.maxAliases}`;
    return null;
  }
  if (measure.depth > QUERY_LIMITS.maxDepth) return `query is nested ${measure.depth} levels deep; the limit is ${QUERY_LIMITS.maxDepth}`;
  if (measure.aliases > QUERY_LIMITS.maxAliases) return `query uses ${measure.aliases} aliases; the limit is ${QUERY_LIMITS.maxAliases}`;
  return null;
}

/**
 * The size of a JSON value (strings by length, other scalars 8), walked without recursion; Infinity
 * past `limit` or nested deeper than any hub input.
 */
function sizeOf(value: unknown, limit: number): number {
  let size = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.depth > 16) return Infinity;
    if (typeof item.value === "string") size += item.value.length;
    else if (item.value !== null && typeof item.value === "object") {
      for (const [key, inner] of Object.entries(item.value)) {
        size += key.length;
        stack.push({ value: inner, depth: item.depth + 1 });
      }
    } else size += 8;
    if (size > limit) return Infinity;
  }
  return size;
}

/** Refuses variables that, copied where the operation reads them, would exceed maxVariableBytes. */
function checkVariableBytes(uses: ReadonlyMap<string, number>, defaults: ReadonlyMap<string, number>, variables: Record<string, unknown>): void {
  let total = 0;
  for (const [name, count] of uses) {
    // A variable left out is read with its default value, written in the document.
    const size = Object.hasOwn(variables, name) ? sizeOf(variables[name], QUERY_LIMITS.maxVariableBytes) : (defaults.get(name) ?? 0);
    total += size * count;
    if (total > QUERY_LIMITS.maxVariableBytes) {
      throw tooComplex(`the operation reads its variables to more than ${QUERY_LIMITS.maxVariableBytes} bytes (each use of a variable copies its value)`);
    }
  }
}

/** What one operation's text allows, computed once per parsed document (Apollo caches documents by query text). */
interface OperationLimits {
  /** Shape refusal (fields, depth, aliases), the same for every request of this operation. */
  refusal: string | null;
  /** Introspection operations are left to the introspection setting beyond their shape limits. */
  introspection: boolean;
  /** Uses of each variable once fragments are expanded. */
  variableUses: ReadonlyMap<string, number>;
  /** The operation's declared variables: only they reach resolvers, and only they shape the cost. */
  declared: readonly string[];
  /** The size in the document's text of each declared variable's default value. */
  defaults: ReadonlyMap<string, number>;
  /** Complexity by the shape of the variables (list lengths and numbers count, strings do not). */
  complexity: Map<string, number>;
}

const MAX_SHAPES_PER_OPERATION = 64;
const measured = new WeakMap<OperationDefinitionNode, OperationLimits>();

function limitsOf(document: DocumentNode, operation: OperationDefinitionNode): OperationLimits {
  let limits = measured.get(operation);
  if (limits) return limits;
  const introspection = isIntrospectionOnly(operation);
  const measure = measureOperation(document, operation);
  const definitions = operation.variableDefinitions ?? [];
  const declared = definitions.map((definition) => definition.variable.name.value);
  const defaults = new Map(definitions.filter((d) => d.defaultValue).map((d) => [d.variable.name.value, print(d.defaultValue!).length]));
  limits = { refusal: refusalOf(measure, introspection), introspection, variableUses: measure.variableUses, declared, defaults, complexity: new Map() };
  measured.set(operation, limits);
  return limits;
}

/** Longest variables shape kept as a cache key; larger shapes are estimated afresh each time. */
const MAX_SHAPE_LENGTH = 2_048;

/**
 * The declared variables with every string emptied (the estimators read list lengths and numbers
 * only), or null when too large to keep. Undeclared variables never reach a resolver: ignored.
 */
function shapeOf(declared: readonly string[], variables: Record<string, unknown>): string | null {
  const parts = declared.map((name) => (Object.hasOwn(variables, name) ? JSON.stringify(variables[name], (_key, value) => (typeof value === "string" ? "" : value)) : "-"));
  const shape = parts.join("\u0000");
  return shape.length > MAX_SHAPE_LENGTH ? null : shape;
}

/**
 * Refuses, with QUERY_TOO_COMPLEX, an operation too large to run: first by its shape (a linear walk
 * that measures each fragment once), then by its estimated cost under these variables. Runs after
 * validation, before any resolver.
 */
export function checkQueryLimits(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): void {
  const limits = limitsOf(document, operation);
  if (limits.refusal) throw tooComplex(limits.refusal);
  // Sized first (without recursion): what follows stringifies and coerces the values.
  checkVariableBytes(limits.variableUses, limits.defaults, variables);
  if (limits.introspection) return;
  const shape = shapeOf(limits.declared, variables);
  let complexity = shape === null ? undefined : limits.complexity.get(shape);
  if (complexity === undefined) {
    if (getVariableValues(schema, operation.variableDefinitions ?? [], variables).errors) return; // invalid variables: execution refuses them (400 BAD_USER_INPUT) before any resolver runs
    complexity = estimateComplexity(schema, document, operation, variables);
    if (shape !== null) {
      if (limits.complexity.size >= MAX_SHAPES_PER_OPERATION) limits.complexity.clear();
      limits.complexity.set(shape, complexity);
    }
  }
  if (complexity > QUERY_LIMITS.maxComplexity) {
    throw tooComplex(`query complexity ${complexity} exceeds ${QUERY_LIMITS.maxComplexity}; ask for fewer fields or split the request`);
  }
}
