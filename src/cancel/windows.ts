/**
 * The oldest of many windows that holds a point in time: the interval structure behind
 * `CancellationChecker` for cancellations without an `if`.
 *
 * Windows are closed intervals `[startedAfter, startedBefore]` (no lower bound when `startedAfter`
 * is absent). The structure cuts the time line at every window end into *pieces* — each end itself
 * and the open gaps between ends — and records for each piece the oldest window covering it, so a
 * lookup is one binary search, without allocation. Windows are painted oldest first, and each
 * piece is painted once (a "next unpainted piece" pointer table skips painted runs), so building
 * costs a sort plus near-linear work. Additions and removals mark the structure stale; the next
 * lookup rebuilds it, since lookups (one per step of every run) vastly outnumber changes.
 *
 * @module
 */

/** What the structure needs of a cancellation. */
export interface Windowed {
  readonly id: string;
  /** Inclusive lower bound, epoch ms; none when absent. */
  readonly startedAfter?: number;
  /** Inclusive upper bound, epoch ms. */
  readonly startedBefore: number;
  /** Creation time, epoch ms: older wins. */
  readonly createdAt: number;
}

/** Orders by age: earlier `createdAt`, then smaller id (ULIDs sort by time). */
export function compareAge(a: Windowed, b: Windowed): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Whether `w`'s window holds `t` (both ends inclusive). */
export function holds(w: Windowed, t: number): boolean {
  return (w.startedAfter === undefined || w.startedAfter <= t) && t <= w.startedBefore;
}

/** Windows by id, answering {@link WindowIndex.oldestHolding}. */
export class WindowIndex<W extends Windowed> {
  private readonly windows = new Map<string, W>();
  private stale = true;
  /** Sorted distinct window ends. */
  private ends: Float64Array = new Float64Array(0);
  /** The oldest window of each piece: piece `2i + 1` is `ends[i]`, piece `2i` the gap below it. */
  private owners: (W | undefined)[] = [];

  get size(): number {
    return this.windows.size;
  }

  add(w: W): void {
    this.windows.set(w.id, w);
    this.stale = true;
  }

  remove(id: string): boolean {
    const removed = this.windows.delete(id);
    if (removed) this.stale = true;
    return removed;
  }

  /** The oldest window that holds `t`, or `undefined`. */
  oldestHolding(t: number): W | undefined {
    if (this.windows.size === 0 || t !== t) return undefined;
    if (this.stale) this.rebuild();
    return this.owners[this.pieceOf(t)];
  }

  /** The piece `t` falls in. */
  private pieceOf(t: number): number {
    const ends = this.ends;
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo < ends.length && ends[lo] === t ? 2 * lo + 1 : 2 * lo;
  }

  private rebuild(): void {
    const windows = [...this.windows.values()].sort(compareAge);
    const points: number[] = [];
    for (const w of windows) {
      if (w.startedAfter !== undefined) points.push(w.startedAfter);
      points.push(w.startedBefore);
    }
    points.sort((a, b) => a - b);
    const ends: number[] = [];
    for (const p of points) if (ends.length === 0 || ends[ends.length - 1] !== p) ends.push(p);
    this.ends = Float64Array.from(ends);
    const pieces = 2 * ends.length + 1;
    const owners: (W | undefined)[] = new Array(pieces).fill(undefined);
    // next[k]: the first piece at or after k not yet painted (path-compressed).
    const next = new Int32Array(pieces + 1);
    for (let k = 0; k <= pieces; k++) next[k] = k;
    const find = (k: number): number => {
      let root = k;
      while (next[root] !== root) root = next[root]!;
      while (next[k] !== root) {
        const up = next[k]!;
        next[k] = root;
        k = up;
      }
      return root;
    };
    for (const w of windows) {
      const first = w.startedAfter === undefined ? 0 : this.pieceOf(w.startedAfter);
      const last = this.pieceOf(w.startedBefore);
      for (let k = find(first); k <= last; k = find(k)) {
        owners[k] = w;
        next[k] = k + 1;
      }
    }
    this.owners = owners;
    this.stale = false;
  }
}
