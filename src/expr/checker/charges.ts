/**
 * What the runtime charges and how loops are shaped: the units of a comprehension iteration, of a
 * scan and of a regular expression, the loop shapes of the macros and two-variable comprehensions,
 * and which overloads scan their operands. Shared by the compiler (which charges at run time) and
 * the static estimate in `cost.ts` (which bounds those charges).
 *
 * @module
 */
import type { CallExpr, ComprehensionExpr, Expr, ListExpr } from "../ast.js";

/** Units charged per comprehension iteration, on top of the nodes its body evaluates. */
export const ITERATION_COST = 1;
/** Units charged per element a `map` or `filter` appends to its result. */
export const APPEND_COST = 8;
/** Strings and byte strings are charged one unit per `2 ** SCAN_SHIFT` units scanned or built. */
export const SCAN_SHIFT = 4;
/** A regular expression's subject is charged `regexFactor(pattern length)` units per `2 ** REGEX_SHIFT` characters. */
export const REGEX_SHIFT = 2;
/** Units charged per character of a regular expression compiled at run time (from data). */
export const REGEX_COMPILE_COST = 4;

/** The macro a comprehension was expanded from, recognised from the original call and the loop's shape. */
type MacroKind = "all" | "exists" | "exists_one" | "map" | "map_filter" | "filter";

/**
 * The macros of cel-go's two-variable comprehensions (ext/comprehensions.go), which run as loops
 * of their own (`compiler/two-var.ts`): the quantifiers, and `transformList` / `transformMap` /
 * `transformMapEntry` without and with a filter.
 */
type TwoVarKind = "all" | "exists" | "exists_one" | "list" | "list_filter" | "map" | "map_filter" | "entry" | "entry_filter";

/** A two-variable macro's loop: what it evaluates per iteration. */
export interface TwoVarLoop {
  readonly kind: TwoVarKind;
  /** The predicate of a quantifier, or the filter of a transform. */
  readonly test: Expr | undefined;
  /** The transform: an element (`transformList`), a value (`transformMap`) or a map of entries (`transformMapEntry`). */
  readonly value: Expr | undefined;
}

/**
 * The two-variable macro a comprehension was expanded from, recognised from the original call and
 * its expansion (shared by the loop and the estimate so that both see the same parts), or
 * `undefined` for any other comprehension (the general loop runs it).
 */
export function twoVarLoop(e: ComprehensionExpr, call: CallExpr | undefined): TwoVarLoop | undefined {
  if (call === undefined || e.iterVar2 === undefined) return undefined;
  const kind = twoVarKind(e, call);
  if (kind === undefined) return undefined;
  const step = e.loopStep as CallExpr;
  const last = (x: CallExpr): Expr => x.args[x.args.length - 1]!;
  switch (kind) {
    case "all":
    case "exists":
      return { kind, test: step.args[1], value: undefined };
    case "exists_one":
      return { kind, test: step.args[0], value: undefined };
    case "list":
      return { kind, test: undefined, value: (step.args[1] as ListExpr).elements[0] };
    case "list_filter":
      return { kind, test: step.args[0], value: ((step.args[1] as CallExpr).args[1] as ListExpr).elements[0] };
    case "map":
    case "entry":
      return { kind, test: undefined, value: last(step) };
    default:
      return { kind, test: step.args[0], value: last(step.args[1] as CallExpr) };
  }
}

function twoVarKind(e: ComprehensionExpr, call: CallExpr): TwoVarKind | undefined {
  const step = e.loopStep;
  const isAccu = (x: Expr | undefined): boolean => x?.kind === "ident" && x.name === e.accuVar;
  const isCall = (x: Expr | undefined, fn: string): x is CallExpr => x?.kind === "call" && x.fn === fn;
  const append = (x: Expr | undefined): boolean =>
    isCall(x, "_+_") && isAccu(x.args[0]) && x.args[1]?.kind === "list" && x.args[1].elements.length === 1;
  const insert = (x: Expr | undefined, n: number): boolean => isCall(x, "cel.@mapInsert") && x.args.length === n && isAccu(x.args[0]);
  const filtered = isCall(step, "_?_:_") && isAccu(step.args[2]) ? step.args[1] : undefined;
  switch (call.fn) {
    case "exists":
      return isCall(step, "_||_") && isAccu(step.args[0]) ? "exists" : undefined;
    case "all":
      return isCall(step, "_&&_") && isAccu(step.args[0]) ? "all" : undefined;
    case "existsOne":
    case "exists_one":
      return filtered !== undefined ? "exists_one" : undefined;
    case "transformList":
      if (call.args.length === 3) return append(step) ? "list" : undefined;
      return append(filtered) ? "list_filter" : undefined;
    case "transformMap":
      if (call.args.length === 3) return insert(step, 3) ? "map" : undefined;
      return insert(filtered, 3) ? "map_filter" : undefined;
    case "transformMapEntry":
      if (call.args.length === 3) return insert(step, 2) ? "entry" : undefined;
      return insert(filtered, 2) ? "entry_filter" : undefined;
    default:
      return undefined;
  }
}

/** The units a two-variable macro's loop charges per iteration: as a one-variable loop, plus the append of a transform. */
export function twoVarIterationCharge(loop: TwoVarLoop): number {
  return ITERATION_COST + (loop.test === undefined ? 0 : fixedCost(loop.test)) + (loop.value === undefined ? 0 : fixedCost(loop.value) + APPEND_COST);
}

/** The parts of a comprehension's loop that run per iteration. */
export interface LoopParts {
  readonly kind: MacroKind | undefined;
  /** The predicate (`all`, `exists`, `exists_one`, `filter`, `map_filter`), the transform (`map`) or the step (general loop). */
  readonly body: Expr;
  /** The transform of `map(x, p, f)` / the element of `filter`. */
  readonly second: Expr | undefined;
  /** The loop condition of the general loop. */
  readonly cond: Expr | undefined;
}

/**
 * The parts of a comprehension's loop that its closure evaluates per iteration: a macro's own
 * loop runs only the predicate and transform, the general loop its condition and step.
 */
export function loopParts(e: ComprehensionExpr, call: CallExpr | undefined): LoopParts {
  const kind = e.iterVar2 !== undefined ? undefined : call !== undefined ? macroKind(e, call) : isMapExpansion(e) ? "map" : undefined;
  const step = e.loopStep as CallExpr;
  switch (kind) {
    case "exists":
    case "all":
      return { kind, body: step.args[1]!, second: undefined, cond: undefined };
    case "exists_one":
      return { kind, body: step.args[0]!, second: undefined, cond: undefined };
    case "map":
      return { kind, body: (step.args[1] as ListExpr).elements[0]!, second: undefined, cond: undefined };
    case "map_filter":
    case "filter":
      return { kind, body: step.args[0]!, second: ((step.args[1] as CallExpr).args[1] as ListExpr).elements[0]!, cond: undefined };
    default:
      return { kind: undefined, body: e.loopStep, second: undefined, cond: e.loopCondition };
  }
}

/**
 * A comprehension that another macro spelled out as `map` expands (`sortBy` computes its keys so):
 * it runs as the `map` loop does, building its list in place, rather than as a general loop
 * that copies its accumulator at each step.
 */
function isMapExpansion(e: ComprehensionExpr): boolean {
  const isAccu = (x: Expr): boolean => x.kind === "ident" && x.name === e.accuVar;
  const step = e.loopStep;
  return (
    e.accuInit.kind === "list" &&
    e.accuInit.elements.length === 0 &&
    e.loopCondition.kind === "const" &&
    e.loopCondition.value.kind === "bool" &&
    e.loopCondition.value.value &&
    isAccu(e.result) &&
    step.kind === "call" &&
    step.fn === "_+_" &&
    step.args.length === 2 &&
    isAccu(step.args[0]!) &&
    step.args[1]!.kind === "list" &&
    step.args[1]!.elements.length === 1
  );
}

function macroKind(e: ComprehensionExpr, call: CallExpr): MacroKind | undefined {
  const step = e.loopStep;
  const isAccu = (x: Expr): boolean => x.kind === "ident" && x.name === e.accuVar;
  const appendOf = (x: Expr): Expr | undefined =>
    x.kind === "call" && x.fn === "_+_" && x.args.length === 2 && isAccu(x.args[0]!) && x.args[1]!.kind === "list" && x.args[1]!.elements.length === 1
      ? x.args[1]!.elements[0]
      : undefined;
  switch (call.fn) {
    case "exists":
      return step.kind === "call" && step.fn === "_||_" && isAccu(step.args[0]!) ? "exists" : undefined;
    case "all":
      return step.kind === "call" && step.fn === "_&&_" && isAccu(step.args[0]!) ? "all" : undefined;
    case "exists_one":
    case "existsOne":
      return step.kind === "call" && step.fn === "_?_:_" && isAccu(step.args[2]!) ? "exists_one" : undefined;
    case "map":
      if (call.args.length === 2) return appendOf(step) !== undefined ? "map" : undefined;
      return step.kind === "call" && step.fn === "_?_:_" && appendOf(step.args[1]!) !== undefined ? "map_filter" : undefined;
    case "filter":
      return step.kind === "call" && step.fn === "_?_:_" && appendOf(step.args[1]!) !== undefined ? "filter" : undefined;
    default:
      return undefined;
  }
}

/**
 * The units one evaluation of `e` always costs, whatever the data: one per identifier, selection,
 * call and literal list or map, nothing for a constant. A nested comprehension counts its range,
 * start and result; its iterations are charged by its own loop.
 */
export function fixedCost(e: Expr): number {
  switch (e.kind) {
    case "const":
      return 0;
    case "ident":
      return 1;
    case "select":
      return 1 + fixedCost(e.operand);
    case "call": {
      let sum = 1 + (e.target !== undefined ? fixedCost(e.target) : 0);
      for (const a of e.args) sum += fixedCost(a);
      return sum;
    }
    case "list": {
      let sum = 1;
      for (const x of e.elements) sum += fixedCost(x);
      return sum;
    }
    case "map": {
      let sum = 1;
      for (const x of e.entries) sum += fixedCost(x.key) + fixedCost(x.value);
      return sum;
    }
    case "struct": {
      let sum = 1;
      for (const f of e.fields) sum += fixedCost(f.value);
      return sum;
    }
    case "comprehension":
      return fixedCost(e.iterRange) + fixedCost(e.accuInit) + fixedCost(e.result);
  }
}

/** The units a comprehension's closure charges per iteration (see {@link loopParts}). */
export function iterationCharge(parts: LoopParts): number {
  let units = ITERATION_COST + fixedCost(parts.body);
  if (parts.second !== undefined) units += fixedCost(parts.second) + APPEND_COST;
  if (parts.kind === "map") units += APPEND_COST;
  if (parts.cond !== undefined) units += fixedCost(parts.cond);
  return units;
}

/**
 * Overloads whose work grows with the size of their string, bytes or list arguments, with their
 * weight: a call is charged, before it runs, `weight` units per 16 characters of each string or
 * bytes argument and one unit per list element. The weights are measured ratios (`json_parse`
 * reads a character about as slowly as a comprehension runs an iteration).
 */
const SCAN_WEIGHTS: ReadonlyMap<string, number> = new Map([
  ["contains_string", 1],
  ["starts_with_string", 1],
  ["ends_with_string", 1],
  ["size_string", 1],
  ["string_size", 1],
  ["size_bytes", 1],
  ["bytes_size", 1],
  ["in_list", 1],
  ["equals", 1],
  ["not_equals", 1],
  ["string_to_bool", 1],
  ["string_to_bytes", 1],
  ["string_to_double", 16],
  ["string_to_duration", 16],
  ["string_to_int64", 16],
  ["string_to_timestamp", 16],
  ["string_to_uint64", 16],
  ["bytes_to_string", 1],
  ["inngest_lowercase", 1],
  ["inngest_uppercase", 1],
  ["inngest_b64decode", 8],
  ["inngest_json_parse", 64],
  ["inngest_date", 16],
  ["string_char_at_int", 1],
  ["string_index_of_string", 1],
  ["string_index_of_string_int", 1],
  ["string_last_index_of_string", 1],
  ["string_last_index_of_string_int", 1],
  ["string_lower_ascii", 1],
  ["string_upper_ascii", 1],
  ["string_replace_string_string", 1],
  ["string_replace_string_string_int", 1],
  ["string_split_string", 1],
  ["string_split_string_int", 1],
  ["string_substring_int", 1],
  ["string_substring_int_int", 1],
  ["string_trim", 1],
  ["string_format", 4],
  ["strings_quote", 4],
  ["list_join", 1],
  ["list_join_string", 1],
  ["string_reverse", 1],
  // The lists and math extensions' functions that read every element of a list.
  ["list_flatten", 1],
  ["list_flatten_int", 1],
  ...["@max", "@min"].flatMap((f) => ["double", "int", "uint"].map((t): [string, number] => [`math_${f}_list_${t}`, 1])),
]);

/** The scanning overloads that read every element of a list argument (the others read strings and bytes only). */
const LIST_SCANNING_OVERLOADS: ReadonlySet<string> = new Set([
  "in_list",
  "equals",
  "not_equals",
  "list_join",
  "list_join_string",
  "list_flatten",
  "list_flatten_int",
  ...["@max", "@min"].flatMap((f) => ["double", "int", "uint"].map((t) => `math_${f}_list_${t}`)),
]);

/** Whether a call that may dispatch to any of `overloads` reads every element of its list arguments. */
export function scansLists(overloads: readonly { readonly id: string }[]): boolean {
  return overloads.some((o) => LIST_SCANNING_OVERLOADS.has(o.id));
}

/** The scan weight of a call that may dispatch to any of `overloads`; 0 when none scans. */
export function scanWeight(overloads: readonly { readonly id: string }[]): number {
  let w = 0;
  for (const o of overloads) w = Math.max(w, SCAN_WEIGHTS.get(o.id) ?? 0);
  return w;
}

/**
 * Tests that read no more of their receiver than their argument's length: with a constant
 * argument they cost a bounded time and are not charged.
 */
export const AFFIX_TESTS: ReadonlySet<string> = new Set(["starts_with_string", "ends_with_string"]);

/**
 * The regular-expression overloads, `(subject, pattern, …)`: charged by subject size × pattern
 * size, and by pattern size when compiled at run time.
 */
export const REGEX_OVERLOADS: ReadonlySet<string> = new Set([
  "matches",
  "matches_string",
  "regex_extract_string_string",
  "regex_extractAll_string_string",
  "regex_replace_string_string_string",
  "regex_replace_string_string_string_int",
]);

/** The per-subject-unit factor of matching a pattern of `patternLength` characters (an NFA may step that many states). */
export function regexFactor(patternLength: number): number {
  return 1 + (patternLength >> 2);
}
