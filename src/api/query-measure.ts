import { Kind, visit, type ASTNode, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from "graphql";

/** The shape of one operation with every fragment expanded where it is spread. */
export interface OperationMeasure {
  /** Nested selection sets, the operation's own counting as 1. */
  depth: number;
  /** Aliased fields. */
  aliases: number;
  /** Field selections. */
  fields: number;
  /** Introspection lists (`types`, `fields`, `args`, …) nested in one another on the deepest path. */
  introspectionLists: number;
  /** How often each variable is read once fragments are expanded: a value is copied where it is used. */
  variableUses: ReadonlyMap<string, number>;
  /** Selection nodes of the document read to measure it: never more than the document holds. */
  visited: number;
}

type SetMeasure = Omit<OperationMeasure, "visited" | "variableUses"> & { variables: Map<string, number> };

const INTROSPECTION_LISTS = new Set(["types", "fields", "inputFields", "args", "interfaces", "possibleTypes", "enumValues", "directives"]);

/** Sums that grow exponentially with fragments spread several times stay finite and comparable. */
function add(a: number, b: number): number {
  return Math.min(a + b, Number.MAX_SAFE_INTEGER);
}

const EMPTY: SetMeasure = { depth: 0, aliases: 0, fields: 0, introspectionLists: 0, variables: new Map() };

/** Adds `from` into `into`, `times` over. */
function addUses(into: Map<string, number>, from: ReadonlyMap<string, number>, times = 1): void {
  for (const [name, uses] of from) into.set(name, add(into.get(name) ?? 0, Math.min(uses * times, Number.MAX_SAFE_INTEGER)));
}

/** Variables read by a field's own arguments and directives (not by its selections). */
function usesOf(node: ASTNode, into: Map<string, number>): void {
  visit(node, {
    SelectionSet: () => false,
    Variable: (variable) => void into.set(variable.name.value, add(into.get(variable.name.value) ?? 0, 1)),
  });
}

/**
 * Measures selection sets, each fragment once per operation however often it is spread (a chain of
 * fragments that each spread the next one several times would otherwise cost exponential time).
 */
class Measurer {
  visited = 0;
  readonly #fragments = new Map<string, FragmentDefinitionNode>();
  readonly #done = new Map<string, SetMeasure>();
  readonly #inProgress = new Set<string>();

  constructor(document: DocumentNode) {
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) this.#fragments.set(definition.name.value, definition);
  }

  measureSet(set: SelectionSetNode): SetMeasure {
    const result: SetMeasure = { depth: 1, aliases: 0, fields: 0, introspectionLists: 0, variables: new Map() };
    for (const selection of set.selections) {
      this.visited += 1;
      usesOf(selection, result.variables);
      let inner: SetMeasure;
      if (selection.kind === Kind.FIELD) {
        inner = selection.selectionSet ? this.measureSet(selection.selectionSet) : EMPTY;
        result.depth = Math.max(result.depth, 1 + inner.depth);
        result.aliases = add(result.aliases, selection.alias ? 1 : 0);
        result.fields = add(result.fields, 1);
        result.introspectionLists = Math.max(result.introspectionLists, inner.introspectionLists + (INTROSPECTION_LISTS.has(selection.name.value) ? 1 : 0));
      } else {
        inner = selection.kind === Kind.INLINE_FRAGMENT ? this.measureSet(selection.selectionSet) : this.measureFragment(selection.name.value);
        result.depth = Math.max(result.depth, inner.depth);
        result.introspectionLists = Math.max(result.introspectionLists, inner.introspectionLists);
      }
      result.aliases = add(result.aliases, inner.aliases);
      result.fields = add(result.fields, inner.fields);
      addUses(result.variables, inner.variables);
    }
    return result;
  }

  /** A fragment's measure, computed on its first spread. Unknown and cyclic spreads (refused by validation) count nothing. */
  private measureFragment(name: string): SetMeasure {
    const known = this.#done.get(name);
    if (known) return known;
    const fragment = this.#fragments.get(name);
    if (!fragment || this.#inProgress.has(name)) return EMPTY;
    this.#inProgress.add(name);
    const measure = this.measureSet(fragment.selectionSet);
    this.#inProgress.delete(name);
    this.#done.set(name, measure);
    return measure;
  }
}

/** Measures one operation in time linear in the size of the document. */
export function measureOperation(document: DocumentNode, operation: OperationDefinitionNode): OperationMeasure {
  const measurer = new Measurer(document);
  const { variables, ...measure } = measurer.measureSet(operation.selectionSet);
  return { ...measure, variableUses: variables, visited: measurer.visited };
}
