/**
 * A map from node ids to the checker's results (types, references).
 *
 * Node ids of one AST are small integers below the parse's `nextId`, so an array indexed by id
 * serves where a `Map` would hash every key and grow its table as the checker records each node
 * (about 3 KB and a few rehashes per compile of a typical filter).
 *
 * @module
 */

/** Values by node id; read as a `ReadonlyMap` by the compiler, the printer and the planner. */
export class NodeTable<V> implements ReadonlyMap<number, V> {
  readonly #values: (V | undefined)[];
  #size = 0;

  /** @param capacity - Ids expected, below this number (the table grows past it if need be). */
  constructor(capacity: number) {
    this.#values = new Array<V | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  get(id: number): V | undefined {
    return id >= 0 && id < this.#values.length ? this.#values[id] : undefined;
  }

  /** Records `value` (never `undefined`) for node `id`, a non-negative integer. */
  set(id: number, value: V): this {
    if (this.#values[id] === undefined) this.#size++;
    this.#values[id] = value;
    return this;
  }

  /** Replaces every value by `replace(value)` (which must not return `undefined`). */
  replaceAll(replace: (value: V) => V): void {
    const values = this.#values;
    for (let id = 0; id < values.length; id++) {
      const value = values[id];
      if (value !== undefined) values[id] = replace(value);
    }
  }

  forEach(callback: (value: V, key: number, map: ReadonlyMap<number, V>) => void, thisArg?: unknown): void {
    for (const [id, value] of this.entries()) callback.call(thisArg, value, id, this);
  }

  *entries(): MapIterator<[number, V]> {
    const values = this.#values;
    for (let id = 0; id < values.length; id++) {
      const value = values[id];
      if (value !== undefined) yield [id, value];
    }
  }

  *keys(): MapIterator<number> {
    for (const [id] of this.entries()) yield id;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[number, V]> {
    return this.entries();
  }
}
