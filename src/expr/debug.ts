/**
 * A readable, indented printout of an AST in the format of cel-go's `debug.ToAdornedDebugString`,
 * used by golden-table tests. An adorner appends metadata after each node: the node kind exactly
 * as cel-go prints it ({@link kindAdorner}, matching the `ast` strings of `@bufbuild/cel-spec`),
 * the node id ({@link idAdorner}), or, once the checker exists, `~type^overload` as in the
 * cel-spec `checkedAst` strings (any function with the {@link DebugAdorner} signature).
 *
 * @module
 */
import type { CallExpr, Constant, Expr, MapEntry, ParsedAst, StructField } from "./ast.js";

/** Anything an adorner is asked about: an expression, a map entry or a message field. */
export type DebugNode = Expr | MapEntry | StructField;

/** Returns the text appended after a node (empty for none). */
export type DebugAdorner = (node: DebugNode) => string;

/** True when the node is an expression rather than a map entry or a message field. */
export function isExpr(node: DebugNode): node is Expr {
  return "kind" in node;
}

const noAdorner: DebugAdorner = () => "";

const CONSTANT_KINDS: Readonly<Record<Constant["kind"], string>> = {
  null: "*expr.Constant_NullValue",
  bool: "*expr.Constant_BoolValue",
  int: "*expr.Constant_Int64Value",
  uint: "*expr.Constant_Uint64Value",
  double: "*expr.Constant_DoubleValue",
  string: "*expr.Constant_StringValue",
  bytes: "*expr.Constant_BytesValue",
};

const EXPR_KINDS: Readonly<Record<Exclude<Expr["kind"], "const">, string>> = {
  ident: "*expr.Expr_IdentExpr",
  select: "*expr.Expr_SelectExpr",
  call: "*expr.Expr_CallExpr",
  list: "*expr.Expr_ListExpr",
  map: "*expr.Expr_StructExpr",
  struct: "*expr.Expr_StructExpr",
  comprehension: "*expr.Expr_ComprehensionExpr",
};

/** The protobuf kind cel-go's test adorner prints for a node, e.g. `*expr.Expr_IdentExpr`. */
export function nodeKindName(node: DebugNode): string {
  if (!isExpr(node)) return "*expr.Expr_CreateStruct_Entry";
  return node.kind === "const" ? CONSTANT_KINDS[node.value.kind] : EXPR_KINDS[node.kind];
}

/** cel-go's kind adornment: `^#*expr.Expr_IdentExpr#`. */
export const kindAdorner: DebugAdorner = (node) => `^#${nodeKindName(node)}#`;

/** The node id: `^#7#`. */
export const idAdorner: DebugAdorner = (node) => `^#${node.id}#`;

/** Id and kind, as cel-go's parser tests print them: `^#7:*expr.Expr_IdentExpr#`. */
export const idAndKindAdorner: DebugAdorner = (node) => `^#${node.id}:${nodeKindName(node)}#`;

class DebugWriter {
  #out = "";
  #indent = 0;
  #lineStart = true;

  constructor(
    readonly adorner: DebugAdorner,
    /** Prints a node in place of its subtree when it returns a string (macro-call references). */
    readonly substitute?: (e: Expr) => string | undefined,
  ) {}

  toString(): string {
    return this.#out;
  }

  append(text: string): void {
    if (this.#lineStart) {
      this.#lineStart = false;
      this.#out += "  ".repeat(this.#indent);
    }
    this.#out += text;
  }

  newline(): void {
    this.#out += "\n";
    this.#lineStart = true;
  }

  expr(e: Expr): void {
    const replacement = this.substitute?.(e);
    if (replacement !== undefined) {
      this.append(replacement);
      return;
    }
    switch (e.kind) {
      case "const":
        this.append(formatConstant(e.value));
        break;
      case "ident":
        this.append(e.name);
        break;
      case "select":
        this.expr(e.operand);
        this.append(".");
        this.append(e.field);
        if (e.testOnly) this.append("~test-only~");
        break;
      case "call":
        this.call(e);
        break;
      case "list":
        this.append("[");
        if (e.elements.length > 0) {
          this.newline();
          this.#indent++;
          e.elements.forEach((element, i) => {
            if (i > 0) {
              this.append(",");
              this.newline();
            }
            this.expr(element);
          });
          this.#indent--;
          this.newline();
        }
        this.append("]");
        break;
      case "map":
        this.append("{");
        if (e.entries.length > 0) {
          this.newline();
          this.#indent++;
          e.entries.forEach((entry, i) => {
            if (i > 0) {
              this.append(",");
              this.newline();
            }
            if (entry.optional) this.append("?");
            this.expr(entry.key);
            this.append(":");
            this.expr(entry.value);
            this.append(this.adorner(entry));
          });
          this.#indent--;
          this.newline();
        }
        this.append("}");
        break;
      case "struct":
        this.append(e.typeName);
        this.append("{");
        if (e.fields.length > 0) {
          this.newline();
          this.#indent++;
          e.fields.forEach((field, i) => {
            if (i > 0) {
              this.append(",");
              this.newline();
            }
            if (field.optional) this.append("?");
            this.append(field.field);
            this.append(":");
            this.expr(field.value);
            this.append(this.adorner(field));
          });
          this.#indent--;
          this.newline();
        }
        this.append("}");
        break;
      case "comprehension":
        this.append("__comprehension__(");
        this.#indent++;
        this.newline();
        this.append("// Variable");
        this.newline();
        this.append(`${e.iterVar},`);
        this.newline();
        if (e.iterVar2 !== undefined) {
          this.append(`${e.iterVar2},`);
          this.newline();
        }
        this.section("Target", e.iterRange);
        this.append("// Accumulator");
        this.newline();
        this.append(`${e.accuVar},`);
        this.newline();
        this.section("Init", e.accuInit);
        this.section("LoopCondition", e.loopCondition);
        this.section("LoopStep", e.loopStep);
        this.append("// Result");
        this.newline();
        this.expr(e.result);
        this.append(")");
        this.#indent--;
        break;
    }
    this.append(this.adorner(e));
  }

  section(title: string, e: Expr): void {
    this.append(`// ${title}`);
    this.newline();
    this.expr(e);
    this.append(",");
    this.newline();
  }

  call(e: CallExpr): void {
    if (e.target !== undefined) {
      this.expr(e.target);
      this.append(".");
    }
    this.append(e.fn);
    this.append("(");
    if (e.args.length > 0) {
      this.#indent++;
      this.newline();
      e.args.forEach((arg, i) => {
        if (i > 0) {
          this.append(",");
          this.newline();
        }
        this.expr(arg);
      });
      this.#indent--;
      this.newline();
    }
    this.append(")");
  }
}

/**
 * Prints an expression (or a parsed AST's expression) in cel-go's debug format, with each node
 * followed by what `adorner` returns for it. Without an adorner nothing is appended.
 */
export function toDebugString(ast: ParsedAst | Expr, adorner: DebugAdorner = noAdorner): string {
  const writer = new DebugWriter(adorner);
  writer.expr("expr" in ast ? ast.expr : ast);
  return writer.toString();
}

/**
 * Prints the recorded macro calls of a parse, one per expansion in id order, as
 * `<expansion id>: <call as written>`. An argument that is itself a macro expansion is shown as a
 * reference `^#<id>:macro#`, as cel-go prints nested macro calls.
 */
export function macroCallsToDebugString(ast: ParsedAst, adorner: DebugAdorner = noAdorner): string {
  const ids = [...ast.macroCalls.keys()].sort((a, b) => a - b);
  return ids
    .map((id) => {
      const call = ast.macroCalls.get(id)!;
      const writer = new DebugWriter(adorner, (e) => (e !== call && ast.macroCalls.has(e.id) ? `^#${e.id}:macro#` : undefined));
      writer.expr(call);
      return `${id}: ${writer.toString()}`;
    })
    .join("\n");
}

/** A literal as cel-go prints it: Go's `%v` for doubles and `strconv.Quote` for text. */
export function formatConstant(c: Constant): string {
  switch (c.kind) {
    case "null":
      return "null";
    case "bool":
      return c.value ? "true" : "false";
    case "int":
      return c.value.toString();
    case "uint":
      return `${c.value.toString()}u`;
    case "double":
      return formatGoFloat(c.value);
    case "string":
      return goQuote(c.value);
    case "bytes":
      return `b${goQuoteBytes(c.value)}`;
  }
}

/** Go's `fmt` `%v` of a float64: shortest digits, exponent form below 1e-4 and from 1e6. */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const [mantissa, exponentText] = Math.abs(value).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  const sign = value < 0 ? "-" : "";
  if (exponent < -4 || exponent >= 6) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : "";
    const magnitude = String(Math.abs(exponent)).padStart(2, "0");
    return `${sign}${digits[0]}${fraction}e${exponent < 0 ? "-" : "+"}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}${fraction === "" ? "" : `.${fraction}`}`;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrint(codePoint: number): boolean {
  return codePoint === 0x20 || PRINTABLE.test(String.fromCodePoint(codePoint));
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, "0");
}

function escapeRune(codePoint: number): string {
  if (codePoint === 0x22) return '\\"';
  if (codePoint === 0x5c) return "\\\\";
  if (isPrint(codePoint)) return String.fromCodePoint(codePoint);
  switch (codePoint) {
    case 0x07:
      return "\\a";
    case 0x08:
      return "\\b";
    case 0x0c:
      return "\\f";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
    case 0x0b:
      return "\\v";
  }
  if (codePoint < 0x20 || codePoint === 0x7f) return `\\x${hex(codePoint, 2)}`;
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return "\\ufffd";
  return codePoint < 0x10000 ? `\\u${hex(codePoint, 4)}` : `\\U${hex(codePoint, 8)}`;
}

/** Go's `strconv.Quote` of a string. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) out += escapeRune(ch.codePointAt(0)!);
  return `${out}"`;
}

/** Go's `strconv.Quote` of a byte string: valid UTF-8 as text, every other byte as `\xHH`. */
export function goQuoteBytes(bytes: Uint8Array): string {
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const [rune, width] = decodeRune(bytes, i);
    out += rune < 0 ? `\\x${hex(bytes[i]!, 2)}` : escapeRune(rune);
    i += width;
  }
  return `${out}"`;
}

/** Go's `utf8.DecodeRune`: the code point and its width, or -1 and width 1 for an invalid byte. */
function decodeRune(bytes: Uint8Array, i: number): [number, number] {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return [b0, 1];
  const continuation = (k: number, lo = 0x80, hi = 0xbf) => {
    const b = bytes[i + k];
    return b !== undefined && b >= lo && b <= hi ? b & 0x3f : -1;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    const c1 = continuation(1);
    return c1 < 0 ? [-1, 1] : [((b0 & 0x1f) << 6) | c1, 2];
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    const c1 = continuation(1, lo, hi);
    const c2 = c1 < 0 ? -1 : continuation(2);
    return c2 < 0 ? [-1, 1] : [((b0 & 0x0f) << 12) | (c1 << 6) | c2, 3];
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    const c1 = continuation(1, lo, hi);
    const c2 = c1 < 0 ? -1 : continuation(2);
    const c3 = c2 < 0 ? -1 : continuation(3);
    return c3 < 0 ? [-1, 1] : [((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3, 4];
  }
  return [-1, 1];
}
