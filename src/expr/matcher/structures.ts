/**
 * The containers the index is built from: a bag with constant-time removal, and a sorted run of
 * keys for orderings, updated in batches.
 *
 * @module
 */
import { compareCodePoints } from "./compare.js";
import type { IndexedAlternative } from "./entry.js";

/** Above this many items a bag keeps each item's position, so that removal stays constant-time. */
const POSITIONS_FROM = 16;

/** An unordered collection of alternatives. */
export class Bag {
  private readonly items: IndexedAlternative[] = [];
  private positions: Map<IndexedAlternative, number> | undefined = undefined;

  get size(): number {
    return this.items.length;
  }

  add(item: IndexedAlternative): void {
    this.positions?.set(item, this.items.length);
    this.items.push(item);
    if (this.positions === undefined && this.items.length > POSITIONS_FROM) {
      this.positions = new Map(this.items.map((x, i) => [x, i]));
    }
  }

  /** Removes `item` (the last item takes its place). */
  remove(item: IndexedAlternative): void {
    const items = this.items;
    const at = this.positions !== undefined ? (this.positions.get(item) ?? -1) : items.indexOf(item);
    if (at < 0) return;
    const last = items.pop()!;
    if (at < items.length) {
      items[at] = last;
      this.positions?.set(last, at);
    }
    this.positions?.delete(item);
    if (this.positions !== undefined && items.length <= POSITIONS_FROM / 2) this.positions = undefined;
  }

  collect(out: IndexedAlternative[]): void {
    const items = this.items;
    for (let i = 0; i < items.length; i++) out.push(items[i]!);
  }
}

/**
 * Alternatives sorted by key (numbers, or strings in code-point order). Additions and removals
 * wait in side lists until the next lookup, which applies them in one merge: a run of adds or
 * removes costs one sort, and nothing removed is ever scanned by a lookup.
 */
export class SortedRun {
  private keys: (number | string)[] = [];
  private items: IndexedAlternative[] = [];
  private added: IndexedAlternative[] | undefined = undefined;
  private removed: Set<IndexedAlternative> | undefined = undefined;
  private count = 0;

  constructor(private readonly strings: boolean) {}

  get size(): number {
    return this.count;
  }

  add(item: IndexedAlternative): void {
    (this.added ??= []).push(item);
    this.count++;
  }

  remove(item: IndexedAlternative): void {
    (this.removed ??= new Set()).add(item);
    this.count--;
  }

  /** The alternatives whose key is at most `key`. */
  collectUpTo(key: number | string, out: IndexedAlternative[]): void {
    this.settle();
    const end = this.bound(key, true);
    const items = this.items;
    for (let i = 0; i < end; i++) out.push(items[i]!);
  }

  /** The alternatives whose key is at least `key`. */
  collectFrom(key: number | string, out: IndexedAlternative[]): void {
    this.settle();
    const items = this.items;
    for (let i = this.bound(key, false); i < items.length; i++) out.push(items[i]!);
  }

  collectAll(out: IndexedAlternative[]): void {
    this.settle();
    const items = this.items;
    for (let i = 0; i < items.length; i++) out.push(items[i]!);
  }

  private compare(a: number | string, b: number | string): number {
    return this.strings ? compareCodePoints(a as string, b as string) : (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }

  /** The first index whose key is above `key` (`after`), or at least `key`. */
  private bound(key: number | string, after: boolean): number {
    const keys = this.keys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compare(keys[mid]!, key);
      if (c < 0 || (after && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Applies pending additions and removals. */
  private settle(): void {
    const removed = this.removed;
    let added = this.added;
    if (removed === undefined && added === undefined) return;
    let keys = this.keys;
    let items = this.items;
    if (removed !== undefined) {
      const k2: (number | string)[] = [];
      const i2: IndexedAlternative[] = [];
      for (let i = 0; i < items.length; i++) {
        if (!removed.has(items[i]!)) {
          k2.push(keys[i]!);
          i2.push(items[i]!);
        }
      }
      keys = k2;
      items = i2;
      if (added !== undefined) added = added.filter((x) => !removed.has(x));
      this.removed = undefined;
    }
    if (added !== undefined && added.length > 0) {
      added.sort((a, b) => this.compare(a.leafKey as number | string, b.leafKey as number | string));
      const k2: (number | string)[] = new Array(keys.length + added.length);
      const i2: IndexedAlternative[] = new Array(keys.length + added.length);
      let i = 0;
      let j = 0;
      let o = 0;
      while (i < keys.length || j < added.length) {
        if (j >= added.length || (i < keys.length && this.compare(keys[i]!, added[j]!.leafKey as number | string) <= 0)) {
          k2[o] = keys[i]!;
          i2[o++] = items[i++]!;
        } else {
          k2[o] = added[j]!.leafKey as number | string;
          i2[o++] = added[j++]!;
        }
      }
      keys = k2;
      items = i2;
    }
    this.added = undefined;
    this.keys = keys;
    this.items = items;
  }
}
