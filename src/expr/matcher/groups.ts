/**
 * The index: alternatives grouped by *shape* — the paths they test for equality, and the one
 * predicate their group sorts or buckets them by — so that one lookup per group finds the
 * candidates for an activation.
 *
 * A group nests one hash level per equality path (`event.data.plan == 'pro' && event.data.region
 * == 'eu'` files under `'pro'`, then `'eu'`; `path in [a, b]` under both) and ends in a leaf: a
 * sorted run for an ordering (`event.data.amount > 100` — so the alternatives of `amount > k &&
 * plan == 'pro'` for an event with plan `pro` and amount 250 are the prefix of one sorted run), a
 * bucket per constant for `!=`, or a plain bag. A lookup follows the activation's value at each
 * level, so its cost is the number of levels plus the candidates it returns, whatever the number
 * of expressions. Every lookup returns a superset of the alternatives whose filing predicates do
 * not answer `NO` (see `atoms.ts`); the matcher then tests each candidate.
 *
 * @module
 */
import { CelTimestamp, CelUint } from "../values.js";
import { isUpper, type Atom } from "./atoms.js";
import { equalityKey, isNumeric, numericKey, timestampKey } from "./compare.js";
import type { AlternativeGroup, IndexedAlternative } from "./entry.js";
import { PRESENT, readPath, WEIRD, type PathNode } from "./paths.js";
import { Bag, SortedRun } from "./structures.js";

/** What a group's leaf is keyed by. */
export type LeafKind = "bag" | "has" | "ne" | "lower" | "upper";

/** A hash level: key of the value at the level's path → next level or leaf. */
type Level = Map<unknown, Level | Leaf>;

/** Most key combinations one alternative is filed under (the product of its `in` lists). */
export const MAX_COMBINATIONS = 64;

/** The shape of an alternative: how a group would file it. */
export interface Shape {
  readonly key: string;
  readonly levels: readonly Atom[];
  readonly leaf: Atom | undefined;
  readonly leafKind: LeafKind;
  readonly leafKey: unknown;
}

/**
 * Chooses how to file an alternative of `atoms`: one level per path tested with `==` or `in`
 * (the first such predicate per path; ordered by path so that equal shapes meet), then the first
 * ordering as a sorted leaf, else — without levels — the first `!=` or `has`. `undefined` when
 * nothing can be filed.
 */
export function shapeOf(atoms: readonly Atom[], lenient: boolean): Shape | undefined {
  const levels: Atom[] = [];
  let combinations = 1;
  for (const atom of atoms) {
    if (atom.kind !== "eq" && atom.kind !== "in") continue;
    if (levels.some((l) => l.path === atom.path)) continue;
    const n = keysOf(atom).length;
    if (combinations * n > MAX_COMBINATIONS) continue;
    combinations *= n;
    levels.push(atom);
  }
  levels.sort((a, b) => a.path.serial - b.path.serial);
  let leaf: Atom | undefined = atoms.find((a) => a.kind === "cmp");
  if (leaf === undefined && levels.length === 0) leaf = atoms.find((a) => a.kind === "ne") ?? atoms.find((a) => a.kind === "has");
  if (leaf === undefined && levels.length === 0) return undefined;
  let leafKind: LeafKind = "bag";
  let leafKey: unknown;
  if (leaf !== undefined) {
    switch (leaf.kind) {
      case "cmp": {
        leafKind = isUpper(leaf.op) ? "upper" : "lower";
        const v = leaf.value;
        leafKey = typeof v === "string" ? v : v instanceof CelTimestamp ? timestampKey(v) : numericKey(v);
        break;
      }
      case "ne":
        leafKind = "ne";
        leafKey = equalityKey(leaf.value);
        break;
      default:
        leafKind = "has";
    }
  }
  const key = `${lenient ? "i" : "c"}|${levels.map((l) => l.path.serial).join(",")}|${leafKind}:${leaf?.path.serial ?? ""}`;
  return { key, levels, leaf, leafKind, leafKey };
}

/** The distinct keys an equality or membership predicate files under. */
function keysOf(atom: Atom): unknown[] {
  if (atom.kind === "eq") return [equalityKey(atom.value)];
  if (atom.kind !== "in") return [];
  const keys = new Set<unknown>();
  for (const v of atom.values) keys.add(equalityKey(v));
  keys.delete(undefined);
  return [...keys];
}

/** The key of an activation's value at an equality level; `undefined` when it equals no scalar. */
function valueKey(v: unknown): unknown {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return v === v ? v : undefined;
    case "bigint":
      return Number(v);
    case "object":
      if (v === null) return null;
      if (v instanceof CelUint) return Number(v.value);
      return undefined;
    default:
      return undefined;
  }
}

/** The alternatives of one shape. */
export class Group implements AlternativeGroup {
  size = 0;
  private root: Level | Leaf | undefined = undefined;
  private readonly paths: readonly PathNode[];

  constructor(
    readonly key: string,
    shape: Shape,
    private readonly lenient: boolean,
  ) {
    this.paths = shape.levels.map((l) => l.path);
    this.leafKind = shape.leafKind;
    this.leafPath = shape.leaf?.path;
  }

  private readonly leafKind: LeafKind;
  private readonly leafPath: PathNode | undefined;

  add(alt: IndexedAlternative): void {
    this.size++;
    if (this.paths.length === 0) {
      ((this.root ??= newLeaf(this.leafKind)) as Leaf).add(alt);
      return;
    }
    this.root = this.insert((this.root as Level | undefined) ?? new Map(), 0, alt);
  }

  remove(alt: IndexedAlternative): void {
    this.size--;
    if (this.paths.length === 0) {
      (this.root as Leaf).remove(alt);
      return;
    }
    this.delete(this.root as Level, 0, alt);
  }

  private insert(level: Level, depth: number, alt: IndexedAlternative): Level {
    const last = depth === this.paths.length - 1;
    for (const key of keysOf(alt.levels[depth]!)) {
      let child = level.get(key);
      if (last) {
        if (child === undefined) level.set(key, (child = newLeaf(this.leafKind)));
        (child as Leaf).add(alt);
      } else {
        if (child === undefined) level.set(key, (child = new Map()));
        this.insert(child as Level, depth + 1, alt);
      }
    }
    return level;
  }

  private delete(level: Level, depth: number, alt: IndexedAlternative): void {
    const last = depth === this.paths.length - 1;
    for (const key of keysOf(alt.levels[depth]!)) {
      const child = level.get(key);
      if (child === undefined) continue;
      if (last) {
        (child as Leaf).remove(alt);
        if ((child as Leaf).size === 0) level.delete(key);
      } else {
        this.delete(child as Level, depth + 1, alt);
        if ((child as Level).size === 0) level.delete(key);
      }
    }
  }

  /** The filings its structures hold, counted by walking them (for tests). */
  stored(): number {
    const count = (x: Level | Leaf | undefined, depth: number): number => {
      if (x === undefined) return 0;
      if (depth === this.paths.length) {
        const out: IndexedAlternative[] = [];
        (x as Leaf).collectAll(out);
        return out.length;
      }
      let n = 0;
      for (const child of (x as Level).values()) n += count(child, depth + 1);
      return n;
    };
    return count(this.root, 0);
  }

  /** Appends to `out` the candidates of this group for the activation being matched. */
  collect(activation: Readonly<Record<string, unknown>>, epoch: number, out: IndexedAlternative[]): void {
    const root = this.root;
    if (root === undefined) return;
    if (this.paths.length === 0) this.collectLeaf(root as Leaf, activation, epoch, out);
    else this.walk(root as Level, 0, activation, epoch, out);
  }

  private walk(level: Level, depth: number, activation: Readonly<Record<string, unknown>>, epoch: number, out: IndexedAlternative[]): void {
    const node = this.paths[depth]!;
    readPath(node, activation, epoch);
    const last = depth === this.paths.length - 1;
    if (node.state === WEIRD) {
      for (const child of level.values()) {
        if (last) this.collectLeaf(child as Leaf, activation, epoch, out);
        else this.walk(child as Level, depth + 1, activation, epoch, out);
      }
      return;
    }
    let child: Level | Leaf | undefined;
    if (node.state === PRESENT) {
      const key = valueKey(node.value);
      if (key === undefined) return;
      child = level.get(key);
    } else {
      // Absent: `inngest` reads it as unknown, which equals `null`.
      if (!this.lenient) return;
      child = level.get(null);
    }
    if (child === undefined) return;
    if (last) this.collectLeaf(child as Leaf, activation, epoch, out);
    else this.walk(child as Level, depth + 1, activation, epoch, out);
  }

  private collectLeaf(leaf: Leaf, activation: Readonly<Record<string, unknown>>, epoch: number, out: IndexedAlternative[]): void {
    const path = this.leafPath;
    if (path === undefined) {
      leaf.collectAll(out);
      return;
    }
    readPath(path, activation, epoch);
    if (path.state === WEIRD) {
      leaf.collectAll(out);
      return;
    }
    leaf.collect(path.state === PRESENT, path.value, this.lenient, out);
  }
}

/** The end of a group's levels. */
interface Leaf {
  readonly size: number;
  add(alt: IndexedAlternative): void;
  remove(alt: IndexedAlternative): void;
  collectAll(out: IndexedAlternative[]): void;
  /** The candidates for the leaf path's value (`present` false: the path is absent). */
  collect(present: boolean, value: unknown, lenient: boolean, out: IndexedAlternative[]): void;
}

function newLeaf(kind: LeafKind): Leaf {
  switch (kind) {
    case "bag":
    case "has":
      return new BagLeaf();
    case "ne":
      return new UnequalLeaf();
    case "lower":
    case "upper":
      return new RangeLeaf(kind === "upper");
  }
}

/** No leaf predicate, or `has(path)`: everything when the path is present. */
class BagLeaf implements Leaf {
  private readonly bag = new Bag();

  get size(): number {
    return this.bag.size;
  }
  add(alt: IndexedAlternative): void {
    this.bag.add(alt);
  }
  remove(alt: IndexedAlternative): void {
    this.bag.remove(alt);
  }
  collectAll(out: IndexedAlternative[]): void {
    this.bag.collect(out);
  }
  collect(present: boolean, _value: unknown, _lenient: boolean, out: IndexedAlternative[]): void {
    if (present) this.bag.collect(out);
  }
}

/** `path != c`: a bucket per constant; a lookup takes every bucket but the value's own. */
class UnequalLeaf implements Leaf {
  private readonly buckets = new Map<unknown, Bag>();
  size = 0;

  add(alt: IndexedAlternative): void {
    let bag = this.buckets.get(alt.leafKey);
    if (bag === undefined) this.buckets.set(alt.leafKey, (bag = new Bag()));
    bag.add(alt);
    this.size++;
  }
  remove(alt: IndexedAlternative): void {
    const bag = this.buckets.get(alt.leafKey);
    if (bag === undefined) return;
    bag.remove(alt);
    this.size--;
    if (bag.size === 0) this.buckets.delete(alt.leafKey);
  }
  collectAll(out: IndexedAlternative[]): void {
    for (const bag of this.buckets.values()) bag.collect(out);
  }
  collect(present: boolean, value: unknown, lenient: boolean, out: IndexedAlternative[]): void {
    let skip: unknown;
    if (present) {
      // Only where every constant filed under the value's key certainly equals the value: a
      // double (an int under its key converts to that double), a string, a boolean or null.
      const t = typeof value;
      if (t === "string" || t === "boolean" || value === null || (t === "number" && value === value)) skip = value;
      else skip = undefined;
      if (skip === undefined) {
        this.collectAll(out);
        return;
      }
    } else {
      // Absent: never true in `cel`; in `inngest`, unknown is unequal to everything but null.
      if (!lenient) return;
      skip = null;
    }
    for (const [key, bag] of this.buckets) if (key !== skip) bag.collect(out);
  }
}

/** Orderings: the constants sorted per kind; a lookup takes a prefix or a suffix. */
class RangeLeaf implements Leaf {
  private numbers: SortedRun | undefined = undefined;
  private strings: SortedRun | undefined = undefined;
  private timestamps: SortedRun | undefined = undefined;
  size = 0;

  /** For `<` and `<=` (true), else `>` and `>=`. */
  constructor(private readonly upper: boolean) {}

  private runOf(alt: IndexedAlternative, create: boolean): SortedRun | undefined {
    const leaf = alt.leaf!;
    const v = leaf.kind === "cmp" ? leaf.value : undefined;
    if (typeof v === "string") return create ? (this.strings ??= new SortedRun(true)) : this.strings;
    if (v instanceof CelTimestamp) return create ? (this.timestamps ??= new SortedRun(false)) : this.timestamps;
    return create ? (this.numbers ??= new SortedRun(false)) : this.numbers;
  }

  add(alt: IndexedAlternative): void {
    this.runOf(alt, true)!.add(alt);
    this.size++;
  }
  remove(alt: IndexedAlternative): void {
    const run = this.runOf(alt, false);
    if (run === undefined) return;
    run.remove(alt);
    this.size--;
    if (run.size === 0) {
      if (run === this.numbers) this.numbers = undefined;
      else if (run === this.strings) this.strings = undefined;
      else this.timestamps = undefined;
    }
  }
  collectAll(out: IndexedAlternative[]): void {
    this.numbers?.collectAll(out);
    this.strings?.collectAll(out);
    this.timestamps?.collectAll(out);
  }

  private collectKey(run: SortedRun | undefined, key: number | string, out: IndexedAlternative[]): void {
    if (run === undefined) return;
    // `path > c` can hold only where c's key is at most the value's; `path < c` where at least.
    if (this.upper) run.collectFrom(key, out);
    else run.collectUpTo(key, out);
  }

  collect(present: boolean, value: unknown, lenient: boolean, out: IndexedAlternative[]): void {
    if (!present) {
      // Absent: never true in `cel`; in `inngest`, unknown is less than everything.
      if (lenient && this.upper) this.collectAll(out);
      return;
    }
    if (value === null) {
      // `inngest` orders null as the zero value of the constant's kind; `cel` fails.
      if (!lenient) return;
      this.collectKey(this.numbers, 0, out);
      this.collectKey(this.strings, "", out);
      return;
    }
    if (typeof value === "string") this.collectKey(this.strings, value, out);
    else if (isNumeric(value)) {
      const key = numericKey(value);
      if (key === key) this.collectKey(this.numbers, key, out);
    } else if (value instanceof CelTimestamp) this.collectKey(this.timestamps, timestampKey(value), out);
  }
}
