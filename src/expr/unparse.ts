/**
 * Prints an AST back as CEL source, such that parsing the text gives the same tree (ids aside).
 * Macro expansions are printed as the macro calls recorded by the parser; parentheses are added
 * only where precedence, cel-go's folding of `-` into numeric literals, the cancelling of `!!`
 * and `--`, or the balancing of `&&`/`||` chains would otherwise change the tree.
 *
 * @module
 */
import type { CallExpr, Constant, Expr, ParsedAst } from "./ast.js";

const TERNARY = 1;
const OR = 2;
const AND = 3;
const RELATION = 4;
const ADDITION = 5;
const MULTIPLICATION = 6;
const UNARY = 7;
const MEMBER = 8;

const BINARY: Readonly<Record<string, { readonly text: string; readonly level: number }>> = {
  "_==_": { text: "==", level: RELATION },
  "_!=_": { text: "!=", level: RELATION },
  "_<_": { text: "<", level: RELATION },
  "_<=_": { text: "<=", level: RELATION },
  "_>_": { text: ">", level: RELATION },
  "_>=_": { text: ">=", level: RELATION },
  "@in": { text: "in", level: RELATION },
  "_+_": { text: "+", level: ADDITION },
  "_-_": { text: "-", level: ADDITION },
  "_*_": { text: "*", level: MULTIPLICATION },
  "_/_": { text: "/", level: MULTIPLICATION },
  "_%_": { text: "%", level: MULTIPLICATION },
};

/**
 * Prints `ast` (or a bare expression) as CEL source. Comprehensions and presence tests are
 * printed from the macro calls of the parse (`macroCalls` defaults to those of a `ParsedAst`).
 *
 * @throws Error for a tree no CEL text can produce: a comprehension without its macro call, an
 * identifier or field name that cannot be written.
 */
export function unparse(ast: ParsedAst | Expr, macroCalls?: ReadonlyMap<number, CallExpr>): string {
  const isParsed = "expr" in ast;
  const printer = new Printer(macroCalls ?? (isParsed ? ast.macroCalls : new Map()));
  return printer.print(isParsed ? ast.expr : ast, TERNARY);
}

/** The binary call `fn(left, right)`, or undefined. */
function asOperator(e: Expr, fn: string): CallExpr | undefined {
  return e.kind === "call" && e.fn === fn && e.target === undefined && e.args.length === 2 ? e : undefined;
}

function isOperator(e: Expr, fn: string): boolean {
  return asOperator(e, fn) !== undefined;
}

function isUnary(e: Expr): boolean {
  return e.kind === "call" && e.target === undefined && e.args.length === 1 && (e.fn === "!_" || e.fn === "-_");
}

/** In-order operands of a chain of one logical operator. */
function chainTerms(e: Expr, fn: string, out: Expr[]): Expr[] {
  const call = asOperator(e, fn);
  if (call !== undefined) {
    chainTerms(call.args[0]!, fn, out);
    chainTerms(call.args[1]!, fn, out);
  } else {
    out.push(e);
  }
  return out;
}

/** Whether a chain has exactly the shape the parser gives `t0 op t1 op … op tn` (cel-go's balancing). */
function isBalanced(e: Expr, fn: string, lo: number, hi: number): boolean {
  const call = asOperator(e, fn);
  if (call === undefined) return false;
  const mid = (lo + hi + 1) >> 1;
  const [left, right] = call.args as [Expr, Expr];
  const leftOk = mid === lo ? !isOperator(left, fn) : isBalanced(left, fn, lo, mid - 1);
  const rightOk = mid === hi ? !isOperator(right, fn) : isBalanced(right, fn, mid + 1, hi);
  return leftOk && rightOk;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORDS = new Set(["true", "false", "null", "in"]);
const BACKQUOTABLE = /^[A-Za-z0-9_.\- /]+$/;

/** A field name as written after `.` or in a message construction, backquoted when needed. */
function fieldName(name: string): string {
  if (IDENTIFIER.test(name) && !KEYWORDS.has(name)) return name;
  if (BACKQUOTABLE.test(name)) return `\`${name}\``;
  throw new Error(`field name ${JSON.stringify(name)} cannot be written in CEL`);
}

class Printer {
  constructor(readonly macroCalls: ReadonlyMap<number, CallExpr>) {}

  /** Prints `e`, parenthesised when it binds more loosely than `level` requires. */
  print(e: Expr, level: number): string {
    const text = this.#text(e);
    return this.#level(e) < level ? `(${text})` : text;
  }

  #level(e: Expr): number {
    if (this.macroCalls.has(e.id)) return MEMBER;
    if (e.kind === "const") {
      const v = e.value;
      const negative = (v.kind === "int" && v.value < 0n) || (v.kind === "double" && (v.value < 0 || Object.is(v.value, -0)));
      return negative ? UNARY : MEMBER;
    }
    if (e.kind !== "call" || e.target !== undefined) return MEMBER;
    if (e.fn === "_?_:_" && e.args.length === 3) return TERNARY;
    if (isOperator(e, "_||_")) return OR;
    if (isOperator(e, "_&&_")) return AND;
    const binary = BINARY[e.fn];
    if (binary !== undefined && e.args.length === 2) return binary.level;
    if (isUnary(e)) return UNARY;
    return MEMBER;
  }

  #text(e: Expr): string {
    const macro = this.macroCalls.get(e.id);
    if (macro !== undefined) return this.#call(macro);
    switch (e.kind) {
      case "const":
        return formatLiteral(e.value);
      case "ident":
        if (!/^\.?[A-Za-z_][A-Za-z0-9_]*$/.test(e.name)) {
          throw new Error(`identifier ${JSON.stringify(e.name)} cannot be written in CEL`);
        }
        return e.name;
      case "select": {
        const text = `${this.print(e.operand, MEMBER)}.${fieldName(e.field)}`;
        return e.testOnly ? `has(${text})` : text;
      }
      case "call":
        return this.#operatorOrCall(e);
      case "list":
        return `[${e.elements
          .map((element, i) => (e.optionalIndices.includes(i) ? "?" : "") + this.print(element, TERNARY))
          .join(", ")}]`;
      case "map":
        return `{${e.entries
          .map((entry) => `${entry.optional ? "?" : ""}${this.print(entry.key, TERNARY)}: ${this.print(entry.value, TERNARY)}`)
          .join(", ")}}`;
      case "struct":
        return `${e.typeName}{${e.fields
          .map((field) => `${field.optional ? "?" : ""}${fieldName(field.field)}: ${this.print(field.value, TERNARY)}`)
          .join(", ")}}`;
      case "comprehension":
        throw new Error(`comprehension #${e.id} has no recorded macro call to print`);
    }
  }

  #operatorOrCall(e: CallExpr): string {
    if (e.target !== undefined) return this.#call(e);
    const args = e.args;
    if (e.fn === "_?_:_" && args.length === 3) {
      return `${this.print(args[0]!, OR)} ? ${this.print(args[1]!, OR)} : ${this.print(args[2]!, TERNARY)}`;
    }
    if (isOperator(e, "_||_")) return this.#logical(e, "_||_", "||", AND);
    if (isOperator(e, "_&&_")) return this.#logical(e, "_&&_", "&&", RELATION);
    const binary = BINARY[e.fn];
    if (binary !== undefined && args.length === 2) {
      // All other binary operators associate to the left.
      return `${this.print(args[0]!, binary.level)} ${binary.text} ${this.print(args[1]!, binary.level + 1)}`;
    }
    if (isUnary(e)) {
      const operand = args[0]!;
      const sign = e.fn === "!_" ? "!" : "-";
      // `!!x` and `--x` would cancel out, and `-1` would become a negative literal.
      if (isUnary(operand)) return `${sign}(${this.#text(operand)})`;
      const text = this.print(operand, MEMBER);
      // A `-` directly before a number would fold into it, even when a member chain follows.
      return sign === "-" && /^[0-9]/.test(text) ? `-(${text})` : sign + text;
    }
    if (e.fn === "_[_]" && args.length === 2) return `${this.print(args[0]!, MEMBER)}[${this.print(args[1]!, TERNARY)}]`;
    if (e.fn === "_[?_]" && args.length === 2) return `${this.print(args[0]!, MEMBER)}[?${this.print(args[1]!, TERNARY)}]`;
    const field = args[1];
    if (e.fn === "_?._" && args.length === 2 && field?.kind === "const" && field.value.kind === "string") {
      return `${this.print(args[0]!, MEMBER)}.?${fieldName(field.value.value)}`;
    }
    return this.#call(e);
  }

  /** A `&&`/`||` chain, flat when the parser would rebuild exactly this tree from flat text. */
  #logical(e: CallExpr, fn: string, text: string, termLevel: number): string {
    const terms = chainTerms(e, fn, []);
    if (isBalanced(e, fn, 0, terms.length - 2)) return terms.map((t) => this.print(t, termLevel)).join(` ${text} `);
    const side = (operand: Expr) => (isOperator(operand, fn) ? `(${this.#text(operand)})` : this.print(operand, termLevel));
    return `${side(e.args[0]!)} ${text} ${side(e.args[1]!)}`;
  }

  #call(e: CallExpr): string {
    const args = e.args.map((arg) => this.print(arg, TERNARY)).join(", ");
    if (!/^\.?[A-Za-z_][A-Za-z0-9_]*$/.test(e.fn)) {
      throw new Error(`function name ${JSON.stringify(e.fn)} cannot be written in CEL`);
    }
    return e.target === undefined ? `${e.fn}(${args})` : `${this.print(e.target, MEMBER)}.${e.fn}(${args})`;
  }
}

/** A literal as CEL source that parses back to the same constant. */
export function formatLiteral(c: Constant): string {
  switch (c.kind) {
    case "null":
      return "null";
    case "bool":
      return String(c.value);
    case "int":
      return c.value.toString();
    case "uint":
      return `${c.value.toString()}u`;
    case "double":
      return formatDouble(c.value);
    case "string":
      return quoteString(c.value);
    case "bytes":
      return quoteBytes(c.value);
  }
}

function formatDouble(value: number): string {
  // Non-finite doubles have no literal form; a conversion call is the closest CEL text.
  if (Number.isNaN(value)) return 'double("NaN")';
  if (value === Infinity) return 'double("Infinity")';
  if (value === -Infinity) return 'double("-Infinity")';
  if (Object.is(value, -0)) return "-0.0";
  const text = String(value);
  // JavaScript's shortest round-trip form is a CEL float literal once it has a `.` or exponent.
  return /[.e]/.test(text) ? text : `${text}.0`;
}

const NAMED_ESCAPES: Readonly<Record<number, string>> = {
  0x07: "\\a",
  0x08: "\\b",
  0x09: "\\t",
  0x0a: "\\n",
  0x0b: "\\v",
  0x0c: "\\f",
  0x0d: "\\r",
  0x22: '\\"',
  0x5c: "\\\\",
};

function hex2(value: number): string {
  return value.toString(16).padStart(2, "0");
}

function quoteString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const named = NAMED_ESCAPES[cp];
    if (named !== undefined) out += named;
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex2(cp)}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

function quoteBytes(bytes: Uint8Array): string {
  let out = 'b"';
  for (const byte of bytes) {
    const named = NAMED_ESCAPES[byte];
    if (named !== undefined) out += named;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${hex2(byte)}`;
  }
  return `${out}"`;
}
