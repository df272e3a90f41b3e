/**
 * What both parsers (the Chevrotain grammar and the fast path in `fast.ts`) share beyond the node
 * builder: the reserved words, the binary operators with their precedence, and the shaping of
 * binary operator chains and ternaries into trees. Keeping these in one place is what makes the
 * two parsers build the same tree, with the same ids, for the same text.
 *
 * @module
 */
import type { TokenType } from "chevrotain";
import type { Constant, Expr } from "../ast.js";
import type { AstBuilder } from "./builder.js";
import * as T from "./tokens.js";

/** Words the grammar lexes as identifiers but CEL reserves; cel-go rejects them after parsing. */
export const RESERVED: ReadonlySet<string> = new Set([
  "as",
  "break",
  "const",
  "continue",
  "else",
  "for",
  "function",
  "if",
  "import",
  "let",
  "loop",
  "package",
  "namespace",
  "return",
  "var",
  "void",
  "while",
]);

/** The constant of `true`, shared by every node that holds it. */
export const TRUE_CONSTANT: Constant = Object.freeze({ kind: "bool", value: true });
/** The constant of `false`, shared by every node that holds it. */
export const FALSE_CONSTANT: Constant = Object.freeze({ kind: "bool", value: false });
/** The constant of `null`, shared by every node that holds it. */
export const NULL_CONSTANT: Constant = Object.freeze({ kind: "null" });

/** Precedence levels of the binary operators, loosest first. */
const OR_LEVEL = 1;
const AND_LEVEL = 2;
const TIGHTEST_LEVEL = 5;

/** A binary operator: the function it calls and its precedence level (1 is the loosest). */
export interface BinaryOperator {
  readonly fn: string;
  readonly level: number;
}

/** The binary operators by token type. */
export const BINARY_OPERATORS: ReadonlyMap<TokenType, BinaryOperator> = new Map<TokenType, BinaryOperator>([
  [T.LogicalOr, { fn: "_||_", level: OR_LEVEL }],
  [T.LogicalAnd, { fn: "_&&_", level: AND_LEVEL }],
  [T.Equals, { fn: "_==_", level: 3 }],
  [T.NotEquals, { fn: "_!=_", level: 3 }],
  [T.Less, { fn: "_<_", level: 3 }],
  [T.LessEquals, { fn: "_<=_", level: 3 }],
  [T.Greater, { fn: "_>_", level: 3 }],
  [T.GreaterEquals, { fn: "_>=_", level: 3 }],
  [T.In, { fn: "@in", level: 3 }],
  [T.Plus, { fn: "_+_", level: 4 }],
  [T.Minus, { fn: "_-_", level: 4 }],
  [T.Star, { fn: "_*_", level: 5 }],
  [T.Slash, { fn: "_/_", level: 5 }],
  [T.Percent, { fn: "_%_", level: 5 }],
]);

/**
 * A binary operator chain as parsed: `operands[i] ops[i] operands[i + 1]`, where `ids[i]` is the
 * node id allocated when `ops[i]` was read.
 */
export interface Chain {
  readonly operands: Expr[];
  readonly ops: BinaryOperator[];
  readonly ids: number[];
}

/**
 * The tree of the operands `lo..hi` of a chain (by default all of them) and the operators between
 * them: split first at the loosest operators present. `||` and `&&` chains
 * are balanced as cel-go does; the other levels associate to the left. Recursion only goes
 * through the five precedence levels (and the logarithmic depth of a balanced chain), never once
 * per operator.
 */
export function chainTree(b: AstBuilder, chain: Chain, lo = 0, hi = chain.operands.length - 1): Expr {
  return subtree(b, chain, lo, hi, OR_LEVEL);
}

function subtree(b: AstBuilder, chain: Chain, lo: number, hi: number, level: number): Expr {
  if (lo === hi) return chain.operands[lo]!;
  if (hi === lo + 1) return b.call2(chain.ids[lo]!, chain.ops[lo]!.fn, chain.operands[lo]!, chain.operands[hi]!);
  for (; level <= TIGHTEST_LEVEL; level++) {
    // The first operator at this level, and whether there are more (usually not).
    let first = -1;
    let more = false;
    for (let i = lo; i < hi; i++) {
      if (chain.ops[i]!.level !== level) continue;
      if (first < 0) first = i;
      else more = true;
    }
    if (first < 0) continue;
    if (!more) {
      const left = subtree(b, chain, lo, first, level + 1);
      const right = subtree(b, chain, first + 1, hi, level + 1);
      return b.call2(chain.ids[first]!, chain.ops[first]!.fn, left, right);
    }
    const splits: number[] = [];
    for (let i = first; i < hi; i++) if (chain.ops[i]!.level === level) splits.push(i);
    const terms: Expr[] = [];
    let from = lo;
    for (const split of splits) {
      terms.push(subtree(b, chain, from, split, level + 1));
      from = split + 1;
    }
    terms.push(subtree(b, chain, from, hi, level + 1));
    if (level === OR_LEVEL || level === AND_LEVEL) return balance(b, chain, terms, splits, 0, splits.length - 1);
    let result = terms[0]!;
    for (let k = 0; k < splits.length; k++) {
      const op = splits[k]!;
      result = b.call2(chain.ids[op]!, chain.ops[op]!.fn, result, terms[k + 1]!);
    }
    return result;
  }
  throw new Error("unreachable: an operator without a precedence level");
}

/** cel-go's balancing of `&&`/`||` chains: a tree of logarithmic depth over the terms. */
function balance(b: AstBuilder, chain: Chain, terms: readonly Expr[], ops: readonly number[], lo: number, hi: number): Expr {
  const mid = (lo + hi + 1) >> 1;
  const left = mid === lo ? terms[mid]! : balance(b, chain, terms, ops, lo, mid - 1);
  const right = mid === hi ? terms[mid + 1]! : balance(b, chain, terms, ops, mid + 1, hi);
  const op = ops[mid]!;
  return b.call2(chain.ids[op]!, chain.ops[op]!.fn, left, right);
}

/**
 * `a ? b : c ? d : e`, which arrives as the first condition, the ids of the `?`s and the
 * branches b, c, d, e (each later condition is the false branch of the one before); it nests to
 * the right.
 */
export function ternaryChain(b: AstBuilder, first: Expr, ids: readonly number[], branches: readonly Expr[]): Expr {
  let result = branches[branches.length - 1]!;
  for (let i = ids.length - 1; i >= 0; i--) {
    const condition = i === 0 ? first : branches[2 * i - 1]!;
    result = b.call(ids[i]!, "_?_:_", [condition, branches[2 * i]!, result]);
  }
  return result;
}
