/**
 * Arbitrary CEL syntax trees (every node kind, optional syntax, message construction, rooted
 * names, unusual field names), with ids all 0: for properties over `unparse`d text.
 */
import fc from "fast-check";
import type { Expr } from "../../../src/expr/ast.js";

const reserved = new Set([
  "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package",
  "namespace", "return", "var", "void", "while", "true", "false", "null", "in",
]);
const macros = new Set(["has", "all", "exists", "exists_one", "existsOne", "map", "filter"]);
const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,4}$/).filter((n) => !reserved.has(n) && !macros.has(n));
const fieldName = fc.oneof(
  name,
  fc.constantFrom("if", "as", "in", "true", "null", "content-type", "a.b", "/v1", "x y", "_"),
);
const id = 0;
const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const leaf: fc.Arbitrary<Expr> = fc.oneof(
  name.map((n): Expr => ({ kind: "ident", id, name: n })),
  name.map((n): Expr => ({ kind: "ident", id, name: `.${n}` })),
  int64.map((value): Expr => ({ kind: "const", id, value: { kind: "int", value } })),
  uint64.map((value): Expr => ({ kind: "const", id, value: { kind: "uint", value } })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value): Expr => ({ kind: "const", id, value: { kind: "double", value } })),
  fc.string({ unit: "binary", maxLength: 8 }).map((value): Expr => ({ kind: "const", id, value: { kind: "string", value } })),
  fc.uint8Array({ maxLength: 6 }).map((value): Expr => ({ kind: "const", id, value: { kind: "bytes", value } })),
  fc.boolean().map((value): Expr => ({ kind: "const", id, value: { kind: "bool", value } })),
  fc.constant<Expr>({ kind: "const", id, value: { kind: "null" } }),
);
const binaryOperators = ["_||_", "_&&_", "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "@in", "_+_", "_-_", "_*_", "_/_", "_%_", "_[_]", "_[?_]"];

export const { expr: astExpr } = fc.letrec<{ expr: Expr }>((tie) => {
  const sub = tie("expr");
  return {
    expr: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.tuple(sub, sub).chain(([l, r]) => fc.constantFrom(...binaryOperators).map((fn): Expr => ({ kind: "call", id, fn, args: [l, r] }))),
      fc.tuple(fc.constantFrom("!_", "-_"), sub).map(([fn, operand]): Expr => ({ kind: "call", id, fn, args: [operand] })),
      fc.tuple(sub, sub, sub).map((args): Expr => ({ kind: "call", id, fn: "_?_:_", args })),
      fc.tuple(sub, fieldName, fc.boolean()).map(([operand, field, testOnly]): Expr => ({ kind: "select", id, operand, field, testOnly })),
      fc.tuple(sub, fieldName).map(([target, field]): Expr => ({
        kind: "call", id, fn: "_?._", args: [target, { kind: "const", id, value: { kind: "string", value: field } }],
      })),
      fc.tuple(name, fc.array(sub, { maxLength: 3 }), fc.boolean()).map(([fn, args, rooted]): Expr => ({
        kind: "call", id, fn: rooted ? `.${fn}` : fn, args,
      })),
      fc.tuple(sub, name, fc.array(sub, { maxLength: 3 })).map(([target, fn, args]): Expr => ({ kind: "call", id, fn, target, args })),
      fc.array(fc.tuple(sub, fc.boolean()), { maxLength: 3 }).map((items): Expr => ({
        kind: "list", id, elements: items.map(([e]) => e), optionalIndices: items.flatMap(([, o], i) => (o ? [i] : [])),
      })),
      fc.array(fc.tuple(sub, sub, fc.boolean()), { maxLength: 3 }).map((entries): Expr => ({
        kind: "map", id, entries: entries.map(([key, value, optional]) => ({ id, key, value, optional })),
      })),
      fc.tuple(fc.array(name, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.array(fc.tuple(fieldName, sub, fc.boolean()), { maxLength: 3 })).map(
        ([parts, rooted, fields]): Expr => ({
          kind: "struct", id, typeName: (rooted ? "." : "") + parts.join("."),
          fields: fields.map(([field, value, optional]) => ({ id, field, value, optional })),
        }),
      ),
    ),
  };
});

