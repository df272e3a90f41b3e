/**
 * A lazily built DFA that answers "does this RE2 program match anywhere in the string?" — the one
 * question CEL's `matches` asks — over the instruction program re2js compiles a pattern to.
 *
 * re2js's own engines (one-pass, DFA, NFA) serve the general case of its API: every call builds an
 * input object, picks an engine and tracks positions. `matches` needs none of that. Here each state
 * is a set of program counters plus what the previous character was; transitions on ASCII
 * characters are kept in one `Int32Array`, so a string of ASCII costs one table load per character
 * once the states it passes through exist. States are built on first use, within
 * {@link MAX_DFA_BYTES} per pattern (past it the DFA starts afresh, and after {@link MAX_RESETS}
 * fresh starts re2js answers for the pattern); a string with a character the DFA cannot read as
 * re2js does (an unpaired surrogate) is answered by re2js too. Time stays linear
 * in the string: a character either follows a cached transition or builds one in time bounded by the
 * program's size, and a fresh start rebuilds at most one state per character read. Transitions on
 * other characters are kept in a `Map`.
 *
 * The program comes from re2js's parser and compiler, so what a pattern means (syntax, classes,
 * case folding, flags) is exactly re2js's; this module only simulates the program. It reads the
 * program's instructions through {@link ProgramShape}; a program of any other shape (one with
 * look-behind instructions, or a future re2js) is not taken, and re2js runs it.
 *
 * @module
 */

/** re2js instruction opcodes (re2js `Inst`, as in Go's `regexp/syntax`). */
const ALT = 1;
const ALT_MATCH = 2;
const CAPTURE = 3;
const EMPTY_WIDTH = 4;
const FAIL = 5;
const MATCH = 6;
const NOP = 7;
const RUNE = 8;
const RUNE1 = 9;
const RUNE_ANY = 10;
const RUNE_ANY_NOT_NL = 11;

/** Empty-width conditions (Go's `syntax.EmptyOp`), the `arg` of an EMPTY_WIDTH instruction. */
const BEGIN_LINE = 1;
const END_LINE = 2;
const BEGIN_TEXT = 4;
const END_TEXT = 8;
const WORD_BOUNDARY = 16;
const NO_WORD_BOUNDARY = 32;
const ALL_CONDITIONS = 63;

/** What the character before a position was; empty-width conditions depend on it. */
const PREV_START = 0;
const PREV_NEWLINE = 1;
const PREV_WORD = 2;
const PREV_OTHER = 3;

/** Transition table entries besides a state id (≥ 0). */
const UNKNOWN = -1;
/** A match ends at or before this position: the answer is true. */
const MATCHED = -2;
/** No thread is alive and none can start: the answer is false. */
const DEAD = -3;

/**
 * Memory one pattern's DFA may hold, estimated as {@link STATE_BYTES} plus its program counters and
 * key per state and {@link WIDE_TRANSITION_BYTES} per transition beyond ASCII. When a new state or
 * transition would pass it, the DFA drops everything it built and starts again from the state it
 * is in, as RE2 does; after {@link MAX_RESETS} such restarts it stops and re2js answers for the
 * pattern from then on. The regex cache keeps 256 patterns, so all of them together hold at most
 * 64 MiB of DFA even when each was written to blow up; filters' patterns need a few KiB.
 */
export const MAX_DFA_BYTES = 256 * 1024;

/** Estimated bytes of one state besides its program counters and key: its ASCII row (128 × 4) and object overheads. */
const STATE_BYTES = 512 + 160;

/** Estimated bytes of one `Map` entry for a transition beyond ASCII. */
const WIDE_TRANSITION_BYTES = 48;

/** Restarts after which the DFA leaves the pattern to re2js for good: it keeps needing more states than it may hold. */
export const MAX_RESETS = 8;

/** The instruction fields this module reads (re2js `Inst`). */
interface InstShape {
  readonly op: number;
  readonly out: number;
  readonly arg: number;
  /** Whether the rune instruction accepts code point `r` (with case folding when its flags say so). */
  matchRune(r: number): boolean;
}

/** The program fields this module reads (re2js `Prog`). */
interface ProgramShape {
  readonly inst: readonly InstShape[];
  readonly start: number;
}

/** ASCII word characters as RE2 defines `\b`: `[0-9A-Za-z_]`. */
function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function prevClassOf(c: number): number {
  return c === 10 ? PREV_NEWLINE : isWordChar(c) ? PREV_WORD : PREV_OTHER;
}

/** The empty-width conditions that hold between a character of class `prev` and `next` (-1: end). */
function conditionsAt(prev: number, next: number): number {
  let flags = 0;
  if (prev === PREV_START) flags |= BEGIN_TEXT | BEGIN_LINE;
  else if (prev === PREV_NEWLINE) flags |= BEGIN_LINE;
  if (next < 0) flags |= END_TEXT | END_LINE;
  else if (next === 10) flags |= END_LINE;
  return flags | ((prev === PREV_WORD) !== (next >= 0 && isWordChar(next)) ? WORD_BOUNDARY : NO_WORD_BOUNDARY);
}

/** Whether `program` has only the instructions this module simulates, with targets in range. */
function isSupported(program: unknown): program is ProgramShape {
  if (typeof program !== "object" || program === null) return false;
  const { inst, start } = program as { inst?: unknown; start?: unknown };
  if (!Array.isArray(inst) || typeof start !== "number" || start < 0 || start >= inst.length) return false;
  const inRange = (pc: unknown): boolean => typeof pc === "number" && Number.isInteger(pc) && pc >= 0 && pc < inst.length;
  for (const i of inst as unknown[]) {
    if (typeof i !== "object" || i === null) return false;
    const { op, out, arg, matchRune } = i as { op?: unknown; out?: unknown; arg?: unknown; matchRune?: unknown };
    if (typeof op !== "number" || op < ALT || op > RUNE_ANY_NOT_NL || typeof arg !== "number") return false;
    if (op !== MATCH && op !== FAIL && !inRange(out)) return false;
    if ((op === ALT || op === ALT_MATCH) && !inRange(arg)) return false;
    if (op === EMPTY_WIDTH && (arg & ~ALL_CONDITIONS) !== 0) return false;
    if ((op === RUNE || op === RUNE1) && typeof matchRune !== "function") return false;
  }
  return true;
}

/**
 * The lazily built DFA of one program. {@link LazyDfa.matches} returns `undefined` when it cannot
 * answer (an unpaired surrogate, or the pattern given up on); the caller then asks re2js.
 */
export class LazyDfa {
  private readonly inst: readonly InstShape[];
  private readonly startPc: number;
  private readonly anchored: boolean;
  /** `kernels[id]`: the state's program counters before closure, sorted. */
  private kernels: Int32Array[] = [];
  /** `prevs[id]`: the class of the character before the state's position. */
  private prevs: number[] = [];
  private ids = new Map<string, number>();
  /** ASCII transitions, 128 per state: a state id, {@link UNKNOWN}, {@link MATCHED} or {@link DEAD}. */
  private ascii = new Int32Array(0);
  /** Transitions on characters beyond ASCII, keyed by `state * 0x110000 + code point`. */
  private wide = new Map<number, number>();
  /** Per state: whether a match ends at the end of the text (1), not (0), or not yet known (-1). */
  private atEnd = new Int8Array(0);
  /** The state of position 0, or {@link DEAD}. */
  private initial: number;
  /** Estimated bytes held, against {@link MAX_DFA_BYTES}. */
  private bytes = 0;
  private resets = 0;
  private gaveUp = false;
  /** Scratch for closures: `mark[pc] === generation` means visited in this closure. */
  private readonly mark: Uint32Array;
  private generation = 0;
  private readonly stack: number[] = [];
  private readonly runes: number[] = [];

  private constructor(program: ProgramShape) {
    this.inst = program.inst;
    this.startPc = program.start;
    this.mark = new Uint32Array(program.inst.length);
    // When nothing is reachable from the start without passing a BEGIN_TEXT condition, every match
    // starts at position 0, and no thread needs to start after it.
    const reachable = this.closure(Int32Array.of(program.start), ALL_CONDITIONS & ~BEGIN_TEXT);
    this.anchored = !reachable && this.runes.length === 0;
    this.initial = this.stateFor([program.start], PREV_START);
    if (this.initial === UNKNOWN) this.gaveUp = true; // a program too large for even one state
  }

  /** The DFA of `program`, or `undefined` when the program has instructions it does not simulate. */
  static of(program: unknown): LazyDfa | undefined {
    return isSupported(program) ? new LazyDfa(program) : undefined;
  }

  /** Number of states held (for tests). */
  get stateCount(): number {
    return this.kernels.length;
  }

  /** Estimated bytes held (for tests). */
  get memoryBytes(): number {
    return this.bytes;
  }

  /** Times the DFA started afresh at its memory budget (for tests). */
  get resetCount(): number {
    return this.resets;
  }

  /** Whether the DFA has left the pattern to re2js for good (for tests). */
  get givenUp(): boolean {
    return this.gaveUp;
  }

  /** Whether the program matches anywhere in `s`, or `undefined` when re2js must answer. */
  matches(s: string): boolean | undefined {
    if (this.gaveUp) return undefined;
    let state = this.initial;
    if (state === DEAD) return false;
    const n = s.length;
    let i = 0;
    while (i < n) {
      let c = s.charCodeAt(i);
      let width = 1;
      let next: number;
      if (c < 128) {
        next = this.ascii[(state << 7) | c]!;
        if (next === UNKNOWN) next = this.step(state, c, true);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const low = i + 1 < n ? s.charCodeAt(i + 1) : 0;
          // An unpaired surrogate: left to re2js, whose reading of it this module does not model.
          if (c > 0xdbff || low < 0xdc00 || low > 0xdfff) return undefined;
          c = ((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
          width = 2;
        }
        const key = state * 0x110000 + c;
        const known = this.wide.get(key);
        if (known !== undefined) {
          next = known;
        } else {
          next = this.step(state, c, false);
          if (next !== UNKNOWN) {
            if (this.charge(WIDE_TRANSITION_BYTES)) this.wide.set(key, next);
            else next = UNKNOWN;
          }
        }
      }
      if (next >= 0) {
        state = next;
        i += width;
      } else if (next === MATCHED) {
        return true;
      } else if (next === DEAD) {
        return false;
      } else {
        // The budget is spent: start afresh from this state and read the same character again.
        state = this.restartFrom(state);
        if (state === UNKNOWN) return undefined;
      }
    }
    let end = this.atEnd[state]!;
    if (end < 0) {
      end = this.closure(this.kernels[state]!, conditionsAt(this.prevs[state]!, -1)) ? 1 : 0;
      this.atEnd[state] = end;
    }
    return end === 1;
  }

  /**
   * Drops every state and transition and returns the id of `state`'s kernel in the fresh cache, or
   * {@link UNKNOWN} once the DFA gives up on the pattern ({@link MAX_RESETS}).
   */
  private restartFrom(state: number): number {
    if (this.gaveUp || ++this.resets > MAX_RESETS) {
      this.gaveUp = true;
      return UNKNOWN;
    }
    const kernel = Array.from(this.kernels[state]!);
    const prev = this.prevs[state]!;
    this.kernels = [];
    this.prevs = [];
    this.ids = new Map();
    this.wide = new Map();
    this.ascii = new Int32Array(0);
    this.atEnd = new Int8Array(0);
    this.bytes = 0;
    this.initial = this.stateFor([this.startPc], PREV_START);
    const fresh = this.stateFor(kernel, prev);
    if (this.initial === UNKNOWN || fresh === UNKNOWN) {
      this.gaveUp = true;
      return UNKNOWN;
    }
    return fresh;
  }

  /** Counts `bytes` against the budget; false (and nothing counted) when they do not fit. */
  private charge(bytes: number): boolean {
    if (this.bytes + bytes > MAX_DFA_BYTES) return false;
    this.bytes += bytes;
    return true;
  }

  /**
   * Follows every thread of `state` over the character `c`: closes the state under the conditions
   * that hold before `c`, then steps each rune instruction that accepts `c`. Caches the result in
   * the ASCII table when `cache` is set. Returns a state id, {@link MATCHED}, {@link DEAD}, or
   * {@link UNKNOWN} when the memory budget is spent.
   */
  private step(state: number, c: number, cache: boolean): number {
    const matched = this.closure(this.kernels[state]!, conditionsAt(this.prevs[state]!, c));
    let next: number;
    if (matched) {
      next = MATCHED;
    } else {
      const targets: number[] = [];
      for (const pc of this.runes) {
        const i = this.inst[pc]!;
        const accepts = i.op === RUNE_ANY ? true : i.op === RUNE_ANY_NOT_NL ? c !== 10 : i.matchRune(c);
        if (accepts) targets.push(i.out);
      }
      if (!this.anchored) targets.push(this.startPc);
      next = this.stateFor(targets, prevClassOf(c));
      if (next === UNKNOWN) return UNKNOWN;
    }
    if (cache) this.ascii[(state << 7) | c] = next;
    return next;
  }

  /**
   * The epsilon closure of `kernel` under the empty-width `conditions`: collects the rune
   * instructions reached into `this.runes` and returns whether a MATCH is reached.
   */
  private closure(kernel: Int32Array, conditions: number): boolean {
    const { inst, mark, stack, runes } = this;
    if (++this.generation === 0xffffffff) {
      mark.fill(0);
      this.generation = 1;
    }
    const generation = this.generation;
    runes.length = 0;
    let matched = false;
    for (let k = kernel.length - 1; k >= 0; k--) stack.push(kernel[k]!);
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (mark[pc] === generation) continue;
      mark[pc] = generation;
      const i = inst[pc]!;
      switch (i.op) {
        case ALT:
        case ALT_MATCH:
          stack.push(i.arg, i.out);
          break;
        case CAPTURE:
        case NOP:
          stack.push(i.out);
          break;
        case EMPTY_WIDTH:
          if ((i.arg & ~conditions) === 0) stack.push(i.out);
          break;
        case MATCH:
          matched = true;
          break;
        case FAIL:
          break;
        default:
          runes.push(pc);
      }
    }
    return matched;
  }

  /** The id of the state with these program counters (any order, duplicates allowed) after a character of class `prev`. */
  private stateFor(pcs: number[], prev: number): number {
    if (pcs.length === 0) return DEAD;
    pcs.sort((a, b) => a - b);
    let unique = 1;
    for (let k = 1; k < pcs.length; k++) if (pcs[k] !== pcs[unique - 1]) pcs[unique++] = pcs[k]!;
    pcs.length = unique;
    const key = `${prev}:${pcs.join(",")}`;
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    if (!this.charge(STATE_BYTES + 4 * pcs.length + 2 * key.length)) return UNKNOWN;
    const id = this.kernels.length;
    this.kernels.push(Int32Array.from(pcs));
    this.prevs.push(prev);
    this.ids.set(key, id);
    if ((id + 1) << 7 > this.ascii.length) {
      const grown = new Int32Array(Math.max(1024, this.ascii.length * 2)).fill(UNKNOWN);
      grown.set(this.ascii);
      this.ascii = grown;
      const grownEnd = new Int8Array(grown.length >> 7).fill(-1);
      grownEnd.set(this.atEnd);
      this.atEnd = grownEnd;
    }
    return id;
  }
}
