/**
 * Field paths of indexed predicates (`event.data.userId`), interned in a tree so that one match
 * reads each path of the activation once, however many predicates test it.
 *
 * Reading follows the compiled programs' field selection for the values events are made of (plain
 * objects, arrays, scalars) and gives up on anything else: a `Map`, a class instance, a `Date`, an
 * error value. A path read as {@link WEIRD} makes every predicate on it a candidate that the program
 * decides, so what this reader does not model can cost time but never a wrong answer.
 *
 * @module
 */
import { CelDuration, CelTimestamp, CelUint, INT64_MAX, INT64_MIN } from "../values.js";

/** The path exists; its value is in {@link PathNode.value}. */
export const PRESENT = 0;
/**
 * The path does not exist: a key is missing, or a step selects a field of `null`, a scalar or a
 * list. The `cel` dialect fails there (`no such key`, …); `inngest` reads it as unknown.
 */
export const ABSENT = 1;
/** The reader does not model this value: every predicate on the path is left to the program. */
export const WEIRD = 2;
/** One of {@link PRESENT}, {@link ABSENT}, {@link WEIRD}. */
export type PathState = typeof PRESENT | typeof ABSENT | typeof WEIRD;

/** How a step reads its key: `.field` or `['field']`. */
export type StepKind = "select" | "index";

/** One interned path: a variable, or a step from its parent. */
export class PathNode {
  /** Child paths by step kind and key. */
  children: Map<string, PathNode> | undefined = undefined;
  /** Predicates and child paths that use this path; at 0 it leaves the tree. */
  uses = 0;
  /** The match during which {@link state} and {@link value} were read. */
  epoch = 0;
  state: PathState = ABSENT;
  value: unknown = undefined;

  constructor(
    /** Unique within its tree, for canonical group keys. */
    readonly serial: number,
    readonly parent: PathNode | undefined,
    /** The variable's name, or the step's key. */
    readonly key: string,
    readonly step: StepKind,
    /** The key under which the parent holds this node. */
    readonly childKey: string,
  ) {}

  /** `event.data['x']`, for messages and debugging. */
  toString(): string {
    if (this.parent === undefined) return this.key;
    return this.step === "select" ? `${this.parent.toString()}.${this.key}` : `${this.parent.toString()}[${JSON.stringify(this.key)}]`;
  }
}

/** A path as the analysis finds it. */
export interface PathSpec {
  readonly variable: string;
  readonly steps: readonly { readonly kind: StepKind; readonly key: string }[];
}

/** The interned paths of one matcher. */
export class PathTree {
  private readonly roots = new Map<string, PathNode>();
  private serials = 0;

  /** The node of `spec`, created if new; each call counts one use until {@link release}. */
  intern(spec: PathSpec): PathNode {
    let node: PathNode | undefined = this.roots.get(spec.variable);
    if (node === undefined) {
      node = new PathNode(++this.serials, undefined, spec.variable, "select", spec.variable);
      this.roots.set(spec.variable, node);
    }
    node.uses++;
    for (const { kind, key } of spec.steps) {
      const childKey = kind === "select" ? `.${key}` : `[${key}`;
      let child: PathNode | undefined = node.children?.get(childKey);
      if (child === undefined) {
        child = new PathNode(++this.serials, node, key, kind, childKey);
        (node.children ??= new Map()).set(childKey, child);
      }
      child.uses++;
      node = child;
    }
    return node;
  }

  /** Gives back one use of `node` (and of its ancestors), dropping nodes nobody uses. */
  release(node: PathNode): void {
    let n: PathNode | undefined = node;
    while (n !== undefined) {
      const parent: PathNode | undefined = n.parent;
      if (--n.uses === 0) {
        if (parent === undefined) this.roots.delete(n.key);
        else {
          parent.children!.delete(n.childKey);
          if (parent.children!.size === 0) parent.children = undefined;
        }
      }
      n = parent;
    }
  }

  /** Number of interned paths (for tests of memory hygiene). */
  get size(): number {
    let n = 0;
    const stack = [...this.roots.values()];
    while (stack.length > 0) {
      const node = stack.pop()!;
      n++;
      if (node.children !== undefined) stack.push(...node.children.values());
    }
    return n;
  }
}

/**
 * Whether the activation has a key with a dot. Programs compiled without the checker resolve
 * `a.b.c` to such a key when present (cel-go's rule); the matcher then reads no path itself.
 */
export function hasDottedKey(activation: object): boolean {
  for (const key in activation) {
    if (key.includes(".")) return true;
  }
  return false;
}

/** Reads `node` for the match `epoch` (memoised on the node), parents first. */
export function readPath(node: PathNode, activation: Readonly<Record<string, unknown>>, epoch: number): void {
  if (node.epoch === epoch) return;
  node.epoch = epoch;
  const parent = node.parent;
  if (parent === undefined) {
    const v = activation[node.key];
    if (v !== undefined) settle(node, v);
    else if (Object.hasOwn(activation, node.key)) settle(node, null);
    else node.state = ABSENT;
    return;
  }
  readPath(parent, activation, epoch);
  if (parent.state !== PRESENT) {
    node.state = parent.state;
    return;
  }
  const container = parent.value;
  if (typeof container === "object" && container !== null) {
    const proto: unknown = Object.getPrototypeOf(container);
    if (proto === Object.prototype || proto === null) {
      const r = (container as Record<string, unknown>)[node.key];
      if (r !== undefined) settle(node, r);
      else if (Object.hasOwn(container, node.key)) settle(node, null);
      else node.state = ABSENT;
      return;
    }
    // Lists and the value classes are not maps; Maps and class instances are maps read another way.
    if (!Array.isArray(container) && !isValueClass(container)) {
      node.state = WEIRD;
      return;
    }
  }
  // A field of null, a scalar, a list or a value class. Indexing one fails in ways that differ
  // by dialect and by the kind of the key, so only selection is modelled.
  node.state = node.step === "select" ? ABSENT : WEIRD;
}

/** Records a present value, or {@link WEIRD} for a value the predicates do not model. */
function settle(node: PathNode, v: unknown): void {
  switch (typeof v) {
    case "bigint":
      // An int beyond int64 is an error where a program reads it, which no predicate models.
      if (v > INT64_MAX || v < INT64_MIN) {
        node.state = WEIRD;
        return;
      }
      node.state = PRESENT;
      node.value = v;
      return;
    case "string":
    case "number":
    case "boolean":
      node.state = PRESENT;
      node.value = v;
      return;
    case "object":
      if (v === null || Array.isArray(v) || v instanceof CelUint || v instanceof CelTimestamp || v instanceof Uint8Array || v instanceof CelDuration) {
        node.state = PRESENT;
        node.value = v;
        return;
      }
      {
        const ctor = (v as { constructor?: unknown }).constructor;
        if (ctor === Object || ctor === undefined || v instanceof Map) {
          node.state = PRESENT;
          node.value = v;
          return;
        }
      }
      node.state = WEIRD;
      return;
    default:
      node.state = WEIRD;
  }
}

function isValueClass(v: object): boolean {
  return v instanceof Uint8Array || v instanceof CelUint || v instanceof CelTimestamp || v instanceof CelDuration;
}
