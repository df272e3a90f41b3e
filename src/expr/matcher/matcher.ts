/**
 * `Matcher`: many expressions, one activation → the ids of the expressions that match.
 *
 * Each expression is analysed into alternatives of indexable predicates (`analyze.ts`), filed in
 * groups by shape (`groups.ts`). A match reads each indexed path of the activation once, collects
 * from every group the alternatives whose filing predicates may hold, and tests each candidate's
 * predicates. An alternative whose predicates all certainly hold, and which the analysis proved
 * sufficient, matches without running the program; any doubt (a predicate that cannot tell, an
 * insufficient alternative) goes to the compiled program, which decides exactly as
 * `compile(source, options).decide(activation) === 'match'`. Expressions with an alternative the
 * analysis cannot narrow are evaluated on every call.
 *
 * Deciding by the index is the one speed-up here that could change an answer; it is behind one
 * seam (`verifyAll`), and the property tests compare both paths with the naive loop.
 *
 * @module
 */
import { compile, Program, type CompileOptions, type VariableDeclarations } from "../program.js";
import type { DialectName } from "../dialect.js";
import { analyze } from "./analyze.js";
import { answer, type Atom, type AtomSpec } from "./atoms.js";
import { MAYBE, NO, YES } from "./compare.js";
import { Entry, type EntryKind, type HeldProgram, type IndexedAlternative } from "./entry.js";
import { Group, shapeOf } from "./groups.js";
import { hasDottedKey, PathTree, readPath } from "./paths.js";

/** Options of {@link Matcher}. */
export interface MatcherOptions {
  /** Dialect of expressions added as source text: `'cel'` or `'inngest'`. Default `'cel'`. */
  readonly dialect?: DialectName;
  /** Declared variables, as for `compile`. Default: the dialect's (see `CompileOptions.variables`). */
  readonly variables?: VariableDeclarations;
  /**
   * Parser and evaluation limits, as for `compile`. Default: `compile`'s. With evaluation limits
   * given (`maxCost`, `maxStringLength`, `maxListLength`), every candidate is decided by its
   * program, since a limit could make a program fail where the index would answer.
   */
  readonly limits?: NonNullable<CompileOptions["limits"]>;
  /**
   * Decide every candidate with its compiled program, even where the index alone is certain (the
   * plain path: slower, and it keeps every compiled program in memory). Default `false`.
   */
  readonly verifyAll?: boolean;
  /**
   * Refuse, as `compile`'s `refuseCostly` does, source text whose estimated worst-case cost per
   * evaluation exceeds the cost budget: {@link Matcher.add} throws `CompileError`. Default `true`.
   */
  readonly refuseCostly?: boolean;
}

/** What a {@link Matcher} holds; see {@link Matcher.stats}. */
export interface MatcherStats {
  /** Expressions held (the matcher's {@link Matcher.size}). */
  readonly expressions: number;
  /** Expressions the index decides alone, for values of the kinds JSON has. */
  readonly indexed: number;
  /** Expressions whose candidates the index finds and whose programs decide them. */
  readonly partlyIndexed: number;
  /** Expressions evaluated on every call: part of them cannot be narrowed by the index. */
  readonly evaluated: number;
  /** Compiled programs the matcher keeps (identical sources share one). */
  readonly programs: number;
  /** Groups of alternatives of one shape: a match does one lookup per group. */
  readonly groups: number;
}

/**
 * An aggregate evaluator: holds many expressions under ids and answers, for one activation, which
 * of them match — exactly the ids whose `compile(expression, options).decide(activation)` is
 * `'match'`, in the order they were added — without evaluating each one.
 *
 * @example
 * ```ts
 * const m = new Matcher({ dialect: "inngest" });
 * m.add("c1", "event.data.userId == 'u1'");
 * m.add("c2", "event.data.userId in ['u2', 'u3'] && event.data.amount > 100");
 * m.match({ event: { data: { userId: "u2", amount: 250 } } }); // ["c2"]
 * ```
 */
export class Matcher {
  private readonly entries = new Map<string, Entry>();
  private readonly groups = new Map<string, Group>();
  /** Entries that match every activation without evaluation. */
  private readonly always = new Set<Entry>();
  /**
   * Entries evaluated on every call, by program: each program runs once per match, and its
   * entries are visited only when it matches (a thousand ids of ten texts cost ten evaluations).
   */
  private readonly evaluated = new Map<HeldProgram, Set<Entry>>();
  private readonly paths = new PathTree();
  private readonly held = new Map<string, HeldProgram>();
  private readonly options: CompileOptions;
  private readonly uncached: CompileOptions;
  /** Whether a sufficient alternative may decide without the program. */
  private readonly decideByIndex: boolean;
  private readonly counts: Record<EntryKind, number> = { indexed: 0, partly: 0, evaluated: 0 };
  /** Programs passed to {@link add}, which the matcher keeps for their entries. */
  private givenPrograms = 0;
  private seq = 0;
  private epoch = 0;
  /** A match is running: a nested call (from a getter in the activation) takes the plain loop. */
  private busy = false;
  private readonly candidates: IndexedAlternative[] = [];
  private readonly matched: Entry[] = [];

  constructor(options: MatcherOptions = {}) {
    const { verifyAll, refuseCostly, ...rest } = options;
    if (rest.dialect !== undefined && rest.dialect !== "cel" && rest.dialect !== "inngest") {
      throw new TypeError(`Matcher: unknown dialect '${String(rest.dialect)}'`);
    }
    this.options = rest;
    this.uncached = { ...rest, cache: false, refuseCostly: refuseCostly ?? true };
    const limits = rest.limits;
    const evalLimits = limits !== undefined && (limits.maxCost !== undefined || limits.maxStringLength !== undefined || limits.maxListLength !== undefined);
    this.decideByIndex = verifyAll !== true && !evalLimits;
  }

  /** Number of expressions held. */
  get size(): number {
    return this.entries.size;
  }

  /** Whether an expression is held under `id`. */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /**
   * Adds `expression` under `id`, replacing (and moving to the end of the order) any expression
   * already there. Source text is compiled with the matcher's options and throws `CompileError`
   * (the matcher is then unchanged), also for an expression too costly to evaluate (see
   * {@link MatcherOptions.refuseCostly}). A {@link Program} is used as it is, in its own dialect, and
   * decides each of its candidates itself.
   */
  add(id: string, expression: string | Program): void {
    if (typeof id !== "string") throw new TypeError("Matcher.add: id must be a string");
    let program: Program;
    const given = expression instanceof Program;
    if (expression instanceof Program) program = expression;
    // Uncached: most programs are dropped at once (the index decides them), and a program cache
    // churned by thousands of adds would keep each long enough to cost a full collection.
    else if (typeof expression === "string") program = compile(expression, this.uncached);
    else throw new TypeError("Matcher.add: expression must be a string or a Program");
    const condition = analyze(program.ast, program.dialect);
    const trusted = this.decideByIndex && !given;

    let evaluated = false;
    let always = false;
    let sufficient = true;
    for (const alt of condition) {
      if (alt.atoms.length === 0) {
        if (alt.sufficient && trusted) always = true;
        else evaluated = true;
      }
      if (!alt.sufficient || !trusted) sufficient = false;
    }
    const kind: EntryKind = evaluated && !always ? "evaluated" : always || sufficient ? "indexed" : "partly";

    this.remove(id);
    const keep = kind !== "indexed" || given;
    const source = program.source;
    const kept = !keep ? undefined : given ? { program, uses: 1, epoch: 0, result: false } : this.hold(source, program);
    if (given) this.givenPrograms++;
    const entry = new Entry(id, ++this.seq, source, kept, kind, always, keep && !given);
    this.entries.set(id, entry);
    this.counts[kind]++;
    if (always || evaluated) {
      if (always) this.always.add(entry);
      else {
        const held = entry.held!;
        let set = this.evaluated.get(held);
        if (set === undefined) this.evaluated.set(held, (set = new Set()));
        set.add(entry);
      }
      return;
    }
    const lenient = program.dialect === "inngest";
    const alternatives: IndexedAlternative[] = [];
    for (const alt of condition) {
      const atoms = alt.atoms.map((a) => this.intern(a, lenient));
      const shape = shapeOf(atoms, lenient)!;
      let group = this.groups.get(shape.key);
      if (group === undefined) this.groups.set(shape.key, (group = new Group(shape.key, shape, lenient)));
      const indexed: IndexedAlternative = {
        entry,
        atoms,
        sufficient: alt.sufficient && trusted,
        levels: shape.levels,
        leaf: shape.leaf,
        leafKey: shape.leafKey,
        group,
      };
      group.add(indexed);
      alternatives.push(indexed);
    }
    entry.alternatives = alternatives;
  }

  /** Removes the expression under `id`; returns whether there was one. */
  remove(id: string): boolean {
    const entry = this.entries.get(id);
    if (entry === undefined) return false;
    this.entries.delete(id);
    this.counts[entry.kind]--;
    if (entry.always) this.always.delete(entry);
    else if (entry.kind === "evaluated") {
      const set = this.evaluated.get(entry.held!)!;
      set.delete(entry);
      if (set.size === 0) this.evaluated.delete(entry.held!);
    }
    for (const alt of entry.alternatives) {
      const group = alt.group;
      group.remove(alt);
      if (group.size === 0) this.groups.delete(group.key);
      for (const atom of alt.atoms) this.paths.release(atom.path);
    }
    if (entry.shared) {
      const held = this.held.get(entry.source)!;
      if (--held.uses === 0) this.held.delete(entry.source);
    } else if (entry.held !== undefined) this.givenPrograms--;
    return true;
  }

  /**
   * The ids of the expressions that match `activation` (`decide` is `'match'`), in the order they
   * were added. `activation` maps variable names to values, as for `Program.decide`.
   */
  match(activation: Readonly<Record<string, unknown>>): string[] {
    const out: string[] = [];
    this.matchEach(activation, (id) => out.push(id));
    return out;
  }

  /** Calls `visit` with the id of each expression that matches, in the order they were added. */
  matchEach(activation: Readonly<Record<string, unknown>>, visit: (id: string) => void): void {
    if (typeof activation !== "object" || activation === null) throw new TypeError("Matcher.match: activation must be an object");
    if (this.busy || hasDottedKey(activation)) {
      this.matchOneByOne(activation, visit);
      return;
    }
    this.busy = true;
    const matched = this.matched;
    try {
      this.collectMatches(activation, matched);
      for (let i = 0; i < matched.length; i++) visit(matched[i]!.id);
    } finally {
      matched.length = 0;
      this.busy = false;
    }
  }

  /** Counts of what the matcher holds, by how it decides them. */
  stats(): MatcherStats {
    return {
      expressions: this.entries.size,
      indexed: this.counts.indexed,
      partlyIndexed: this.counts.partly,
      evaluated: this.counts.evaluated,
      programs: this.held.size + this.givenPrograms,
      groups: this.groups.size,
    };
  }

  // -- matching --------------------------------------------------------------------------------

  private collectMatches(activation: Readonly<Record<string, unknown>>, matched: Entry[]): void {
    const epoch = ++this.epoch;
    const candidates = this.candidates;
    try {
      for (const group of this.groups.values()) group.collect(activation, epoch, candidates);
      for (let i = 0; i < candidates.length; i++) {
        const alt = candidates[i]!;
        const entry = alt.entry;
        if (entry.stamp === epoch) continue;
        const verdict = this.test(alt.atoms, activation, epoch);
        if (verdict === NO) continue;
        entry.stamp = epoch;
        if ((verdict === YES && alt.sufficient) || this.evaluate(entry, activation, epoch)) matched.push(entry);
      }
    } finally {
      candidates.length = 0;
    }
    for (const entry of this.always) matched.push(entry);
    for (const [held, entries] of this.evaluated) {
      if (held.epoch !== epoch) {
        held.result = held.program.matches(activation);
        held.epoch = epoch;
      }
      if (held.result) for (const entry of entries) matched.push(entry);
    }
    sortBySeq(matched);
  }

  /** The predicates' joint answer: NO if one is NO, else MAYBE if one is MAYBE, else YES. */
  private test(atoms: readonly Atom[], activation: Readonly<Record<string, unknown>>, epoch: number): number {
    let verdict: number = YES;
    for (let i = 0; i < atoms.length; i++) {
      const atom = atoms[i]!;
      readPath(atom.path, activation, epoch);
      const a = answer(atom);
      if (a === NO) return NO;
      if (a === MAYBE) verdict = MAYBE;
    }
    return verdict;
  }

  /** Every expression by its program, in order: for activations the index does not read. */
  private matchOneByOne(activation: Readonly<Record<string, unknown>>, visit: (id: string) => void): void {
    const ids: string[] = [];
    for (const entry of this.entries.values()) {
      if (entry.always || this.programOf(entry).matches(activation)) ids.push(entry.id);
    }
    for (const id of ids) visit(id);
  }

  private programOf(entry: Entry): Program {
    // An entry the index decides keeps no program; the program cache usually still has it.
    return entry.held?.program ?? compile(entry.source, this.options);
  }

  /** The program's answer, computed once per match for all the ids that share the program. */
  private evaluate(entry: Entry, activation: Readonly<Record<string, unknown>>, epoch: number): boolean {
    const held = entry.held;
    if (held === undefined) return compile(entry.source, this.options).matches(activation);
    if (held.epoch !== epoch) {
      held.result = held.program.matches(activation);
      held.epoch = epoch;
    }
    return held.result;
  }

  // -- bookkeeping -----------------------------------------------------------------------------

  private hold(source: string, program: Program): HeldProgram {
    let held = this.held.get(source);
    if (held !== undefined) held.uses++;
    else this.held.set(source, (held = { program, uses: 1, epoch: 0, result: false }));
    return held;
  }

  private intern(spec: AtomSpec, lenient: boolean): Atom {
    const path = this.paths.intern(spec.path);
    switch (spec.kind) {
      case "eq":
      case "ne":
        return { kind: spec.kind, path, value: spec.value, lenient };
      case "in":
        return { kind: "in", path, values: spec.values, lenient };
      case "cmp":
        return { kind: "cmp", path, op: spec.op, value: spec.value, lenient };
      case "has":
        return { kind: "has", path, lenient };
    }
  }

  /** @internal Filings held by the index's structures (counted by walking them), for tests that nothing is left behind. */
  storedAlternatives(): number {
    let n = 0;
    for (const group of this.groups.values()) n += group.stored();
    return n;
  }

  /** @internal Interned paths, for tests that nothing is left behind. */
  get pathCount(): number {
    return this.paths.size;
  }
}

/** Sorts entries by order of addition (insertion sort: a match returns a few). */
function sortBySeq(entries: Entry[]): void {
  if (entries.length > 32) {
    entries.sort((a, b) => a.seq - b.seq);
    return;
  }
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i]!;
    let j = i - 1;
    while (j >= 0 && entries[j]!.seq > e.seq) {
      entries[j + 1] = entries[j]!;
      j--;
    }
    entries[j + 1] = e;
  }
}
