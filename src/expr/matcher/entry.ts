/**
 * One expression held by a matcher, and its alternatives as the index stores them.
 *
 * @module
 */
import type { Program } from "../program.js";
import type { Atom } from "./atoms.js";

/** How the matcher decides an expression (see `Matcher.stats`). */
export type EntryKind =
  /** The index decides it: every alternative is sufficient (or there are none). */
  | "indexed"
  /** The index finds its candidates and the program decides them. */
  | "partly"
  /** The program decides it on every call (an alternative has nothing to index). */
  | "evaluated";

/** An expression under an id. */
export class Entry {
  /** The match during which this entry was last decided. */
  stamp = 0;
  /** Its alternatives in the index (none for an expression evaluated on every call). */
  alternatives: readonly IndexedAlternative[] = [];

  constructor(
    readonly id: string,
    /** Order of addition. */
    readonly seq: number,
    readonly source: string,
    /** The compiled program, when the matcher keeps it (see `Matcher`); otherwise compiled on demand. */
    readonly held: HeldProgram | undefined,
    readonly kind: EntryKind,
    /** Matches every activation without evaluation (an alternative that needs nothing). */
    readonly always: boolean,
    /** `held` is shared with the matcher's other entries of this source (else it was given). */
    readonly shared: boolean,
  ) {}
}

/** A compiled program the matcher keeps, with its result in the current match. */
export interface HeldProgram {
  readonly program: Program;
  /** Entries using it. */
  uses: number;
  /** The match in which {@link result} was computed: one evaluation per match, however many ids share it. */
  epoch: number;
  result: boolean;
}

/** One alternative of an entry, filed in one group of the index. */
export interface IndexedAlternative {
  readonly entry: Entry;
  /** All predicates of the alternative; the index narrows by some of them, the rest are tested. */
  readonly atoms: readonly Atom[];
  /** When all `atoms` hold, the expression is true. */
  readonly sufficient: boolean;
  /** The predicates the group files it by: equality or membership per level, then the leaf's. */
  readonly levels: readonly Atom[];
  readonly leaf: Atom | undefined;
  /** The leaf's sort or bucket key. */
  readonly leafKey: unknown;
  /** The group it is filed in. */
  readonly group: AlternativeGroup;
}

/** What an alternative needs of its group (`groups.ts`'s `Group`). */
export interface AlternativeGroup {
  readonly key: string;
  readonly size: number;
  add(alt: IndexedAlternative): void;
  remove(alt: IndexedAlternative): void;
}
