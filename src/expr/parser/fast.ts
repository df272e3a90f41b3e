/**
 * The parser's fast path: a hand-written recursive-descent parser for valid expressions made of
 * the tokens the hand-written scanner reads (`scan.ts`).
 *
 * Chevrotain's parser spends much of a filter's parse on its own machinery: rule invocations,
 * lookahead functions and recovery bookkeeping (parsing the suite's `&&` filter took 9.3 µs
 * through it and 1.9–2.9 µs through this path, in a scratch loop; bench/RESULTS.md, 2026-11-29).
 * This parser reads the same grammar (`grammar.ts` has it in full) straight from
 * the scanner, without token objects, and builds the tree through the same builder and the same
 * shared actions (`chains.ts`, `macros.ts`), allocating ids in the same order. It never reports
 * anything: on the first thing that is not plainly valid (a syntax error, a token the scanner
 * leaves to the lexer, a reserved word, a literal out of range, optional or backquoted syntax,
 * a message construction, a leading-dot name, mixed prefix operators, a malformed macro call, a
 * limit) it gives up, and `parse` hands the whole input to the Chevrotain grammar, which stays
 * the reference for every error message. A property test checks that both build the same tree.
 *
 * @module
 */
import { EOF, type TokenType } from "chevrotain";
import type { Expr, MapEntry } from "../ast.js";
import { ParseAborted, RECOVERED, type AstBuilder } from "./builder.js";
import {
  BINARY_OPERATORS,
  chainTree,
  FALSE_CONSTANT,
  NULL_CONSTANT,
  RESERVED,
  ternaryChain,
  TRUE_CONSTANT,
  type BinaryOperator,
  type Chain,
} from "./chains.js";
import { decodeDouble, decodeInt, decodeString, LiteralError } from "./literals.js";
import { expandMacro } from "./macros.js";
import { Scanner } from "./scan.js";
import * as T from "./tokens.js";

/** Thrown inside the fast path when it gives up; a plain object, so no stack trace is captured. */
const GIVE_UP = Object.freeze({ reason: "the fast path leaves this input to the grammar" });

const NO_ARGS: readonly Expr[] = Object.freeze([]);
const NO_INDICES: readonly number[] = Object.freeze([]);

/** The binary operators by token type index: read after every operand, so an array, not a map. */
const BINARY_BY_INDEX: (BinaryOperator | undefined)[] = [];
for (const [type, op] of BINARY_OPERATORS) BINARY_BY_INDEX[type.tokenTypeIdx!] = op;

function binaryOperator(type: TokenType): BinaryOperator | undefined {
  return BINARY_BY_INDEX[type.tokenTypeIdx!];
}

/** One instance serves every parse (`parse` owns it); its fields are the state of the parse in progress. */
export class FastParser {
  readonly #scanner = new Scanner();
  #b: AstBuilder | undefined;
  #depth = 0;
  #maxDepth = 0;
  /** The stack of binary operator chains being parsed (see `#binary`), and its first free index. */
  readonly #chain: Chain = { operands: [], ops: [], ids: [] };
  #chainTop = 0;

  /**
   * The tree of `source`, built with `b` (already reset for this source), or `undefined` when
   * the fast path gives up; then `b` holds partial work the caller must rewind.
   *
   * @param maxDepth The bracket nesting at which the grammar reports a limit; the fast path
   * gives up there.
   */
  parse(source: string, b: AstBuilder, maxDepth: number): Expr | undefined {
    this.#b = b;
    this.#depth = 0;
    this.#maxDepth = maxDepth;
    this.#chainTop = 0;
    this.#scanner.reset(source);
    try {
      this.#advance();
      const expr = this.#expr();
      if (this.#scanner.type !== EOF || b.issues.length > 0) return undefined;
      return expr;
    } catch (e) {
      // A RangeError is a stack overflow under a very large `maxDepth`; the grammar reports it.
      if (e === GIVE_UP || e instanceof ParseAborted || e instanceof RangeError) return undefined;
      throw e;
    } finally {
      this.#b = undefined;
    }
  }

  #advance(): void {
    if (this.#scanner.next() === undefined) throw GIVE_UP;
  }

  #expect(type: TokenType): void {
    if (this.#scanner.type !== type) throw GIVE_UP;
    this.#advance();
  }

  /** A new id spanning the current token. */
  #idHere(): number {
    return this.#b!.newId(this.#scanner.start, this.#scanner.end);
  }

  /** Enters a bracket (the current token) and reads past it. */
  #open(): void {
    if (++this.#depth >= this.#maxDepth) throw GIVE_UP;
    this.#advance();
  }

  /** Reads the closing bracket `type` and leaves the bracket. */
  #close(type: TokenType): void {
    this.#expect(type);
    this.#depth--;
  }

  /** `binary ('?' binary ':' binary)*`, nested to the right. */
  #expr(): Expr {
    const condition = this.#binary();
    const s = this.#scanner;
    if (s.type !== T.Question) return condition;
    const ids: number[] = [];
    const branches: Expr[] = [];
    do {
      ids.push(this.#idHere());
      this.#advance();
      branches.push(this.#binary());
      this.#expect(T.Colon);
      branches.push(this.#binary());
    } while (s.type === T.Question);
    return ternaryChain(this.#b!, condition, ids, branches);
  }

  /** `operand (binaryOperator operand)*`, shaped by precedence as the grammar does. */
  #binary(): Expr {
    const first = this.#operand();
    const s = this.#scanner;
    let op = binaryOperator(s.type);
    if (op === undefined) return first;
    // The chain goes on a stack shared by every chain of every parse: operand k at index k, and
    // the operator after it at the same index. A chain nested in an operand is complete (and
    // popped) before the operand is pushed, so each chain's entries are contiguous. Arrays made
    // per chain would each reserve room for 17 entries at the first push.
    const chain = this.#chain;
    const start = this.#chainTop;
    let top = start;
    chain.operands[top] = first;
    do {
      chain.ids[top] = this.#idHere();
      chain.ops[top] = op;
      this.#advance();
      this.#chainTop = top + 1;
      const operand = this.#operand();
      chain.operands[++top] = operand;
      op = binaryOperator(s.type);
    } while (op !== undefined);
    this.#chainTop = start;
    const tree = chainTree(this.#b!, chain, start, top);
    // The stack must not keep this parse's nodes alive.
    for (let k = start; k <= top; k++) chain.operands[k] = RECOVERED;
    return tree;
  }

  /** `('!' | '-')* primary memberSuffix*`. */
  #operand(): Expr {
    const s = this.#scanner;
    let type = s.type;
    if (type !== T.Exclamation && type !== T.Minus) return this.#suffixes(this.#primary(-1));
    const firstType = type;
    const firstStart = s.start;
    const firstEnd = s.end;
    let count = 0;
    let bangs = 0;
    let lastType = type;
    let lastStart = 0;
    do {
      if (type === T.Exclamation) bangs++;
      lastType = type;
      lastStart = s.start;
      count++;
      this.#advance();
      type = s.type;
    } while (type === T.Exclamation || type === T.Minus);
    // A single `-` after any `!`s folds into a numeric literal right behind it (`!-1`).
    const folds = lastType === T.Minus && bangs === count - 1 && (type === T.IntLiteral || type === T.FloatLiteral);
    const operand = this.#suffixes(this.#primary(folds ? lastStart : -1));
    const remaining = folds ? count - 1 : count;
    // `!-a` and `-!a`: one kind of prefix operator per operand, or the grammar's error.
    if (!folds && bangs !== 0 && bangs !== count) throw GIVE_UP;
    // An even number of `!` or `-` cancels out, as in cel-go; the call is numbered after its operand.
    if (remaining % 2 === 0) return operand;
    const fn = folds || firstType === T.Exclamation ? "!_" : "-_";
    return this.#b!.call1(this.#b!.newId(firstStart, firstEnd), fn, operand);
  }

  /** @param sign Offset of a `-` to fold into a numeric literal, or -1. */
  #primary(sign: number): Expr {
    const s = this.#scanner;
    const b = this.#b!;
    const start = s.start;
    const end = s.end;
    switch (s.type) {
      case T.Identifier: {
        const name = s.source.slice(start, end);
        if (RESERVED.has(name)) throw GIVE_UP;
        this.#advance();
        if (s.type !== T.LParen) return b.ident(name, start, end);
        return this.#call(name, undefined);
      }
      case T.StringLiteral: {
        // Without escapes the value is the text between the quotes (the scanner reads no raw,
        // triple-quoted or multi-line strings).
        const value = s.escaped ? decodeString(s.source.slice(start, end), b.liftedStrings) : s.source.slice(start + 1, end - 1);
        if (value instanceof LiteralError) throw GIVE_UP;
        this.#advance();
        return b.constant({ kind: "string", value }, start, end);
      }
      case T.IntLiteral: {
        const value = decodeInt(s.source.slice(start, end), sign >= 0);
        if (value instanceof LiteralError) throw GIVE_UP;
        this.#advance();
        return b.constant({ kind: "int", value }, sign >= 0 ? sign : start, end);
      }
      case T.FloatLiteral: {
        const value = decodeDouble(s.source.slice(start, end), sign >= 0);
        if (value instanceof LiteralError) throw GIVE_UP;
        this.#advance();
        return b.constant({ kind: "double", value }, sign >= 0 ? sign : start, end);
      }
      case T.True:
        this.#advance();
        return b.constant(TRUE_CONSTANT, start, end);
      case T.False:
        this.#advance();
        return b.constant(FALSE_CONSTANT, start, end);
      case T.Null:
        this.#advance();
        return b.constant(NULL_CONSTANT, start, end);
      case T.LParen: {
        this.#open();
        const inner = this.#expr();
        this.#close(T.RParen);
        return inner;
      }
      case T.LBracket:
        return this.#list();
      case T.LBrace:
        return this.#map();
      default:
        throw GIVE_UP;
    }
  }

  /** `[e, …]` with an optional trailing comma. */
  #list(): Expr {
    const s = this.#scanner;
    const id = this.#idHere();
    this.#open();
    const elements: Expr[] = [];
    while (s.type !== T.RBracket) {
      // `[,]` and `[?e]` are left to the grammar.
      if (s.type === T.Comma || s.type === T.Question) throw GIVE_UP;
      elements.push(this.#expr());
      if (s.type !== T.Comma) break;
      this.#advance();
    }
    this.#close(T.RBracket);
    return this.#b!.list(id, elements, NO_INDICES);
  }

  /** `{k: v, …}` with an optional trailing comma. */
  #map(): Expr {
    const s = this.#scanner;
    const b = this.#b!;
    const id = this.#idHere();
    this.#open();
    const entries: MapEntry[] = [];
    while (s.type !== T.RBrace) {
      if (s.type === T.Comma || s.type === T.Question) throw GIVE_UP;
      const key = this.#expr();
      if (s.type !== T.Colon) throw GIVE_UP;
      const entryId = this.#idHere();
      this.#advance();
      const value = this.#expr();
      entries.push(b.mapEntry(entryId, key, value, false));
      if (s.type !== T.Comma) break;
      this.#advance();
    }
    this.#close(T.RBrace);
    return b.map(id, entries);
  }

  /** `.name`, `.name(args)` and `[index]` after an operand's primary. */
  #suffixes(receiver: Expr): Expr {
    const s = this.#scanner;
    const b = this.#b!;
    for (;;) {
      if (s.type === T.Dot) {
        const dotStart = s.start;
        const dotEnd = s.end;
        this.#advance();
        // `.?f`, ``.`f` `` and keywords after the dot are left to the grammar.
        if (s.type !== T.Identifier) throw GIVE_UP;
        const name = s.source.slice(s.start, s.end);
        this.#advance();
        if (s.type !== T.LParen) {
          receiver = b.select(b.newId(dotStart, dotEnd), receiver, name, false);
          continue;
        }
        receiver = this.#call(name, receiver);
      } else if (s.type === T.LBracket) {
        const id = this.#idHere();
        this.#open();
        if (s.type === T.Question) throw GIVE_UP;
        const index = this.#expr();
        this.#close(T.RBracket);
        receiver = b.call2(id, "_[_]", receiver, index);
      } else {
        return receiver;
      }
    }
  }

  /** `name(args)` or `receiver.name(args)` from its `(` (the current token): a macro's expansion or the call. */
  #call(name: string, receiver: Expr | undefined): Expr {
    const b = this.#b!;
    const s = this.#scanner;
    const site = { id: this.#idHere(), start: s.start, end: s.end };
    this.#open();
    const args = this.#exprList();
    this.#close(T.RParen);
    const macro = expandMacro(b, site, name, receiver, args);
    if (macro !== undefined) return macro;
    return receiver === undefined ? b.call(site.id, name, args) : b.receiverCall(site.id, name, receiver, args);
  }

  /** Call arguments up to (not including) the `)`. */
  #exprList(): readonly Expr[] {
    const s = this.#scanner;
    if (s.type === T.RParen) return NO_ARGS;
    const args = [this.#expr()];
    while (s.type === T.Comma) {
      this.#advance();
      args.push(this.#expr());
    }
    return args;
  }
}
