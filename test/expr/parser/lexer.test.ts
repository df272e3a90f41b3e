/**
 * The lexer keeps Chevrotain's first-character optimisation, and every token is matched the way
 * cel-spec's lexer rules define it.
 */
import { describe, expect, it } from "vitest";
import { allTokens, createCelLexer, lexerConfig } from "../../../src/expr/parser/tokens.js";

describe("lexer", () => {
  it("is built with ensureOptimizations, so losing the first-character optimisation fails", () => {
    expect(lexerConfig.ensureOptimizations).toBe(true);
    expect(() => createCelLexer()).not.toThrow();
  });

  it("has no token pattern with the u flag", () => {
    for (const token of allTokens) {
      const pattern = token.PATTERN;
      if (pattern instanceof RegExp) expect(pattern.flags, token.name).not.toContain("u");
    }
  });

  const lexer = createCelLexer();
  const lex = (text: string) => {
    const result = lexer.tokenize(text);
    expect(result.errors).toEqual([]);
    return result.tokens.map((t) => `${t.tokenType.name}:${t.image}`);
  };

  it.each<[string, string[]]>([
    ["a.b", ["Identifier:a", "Dot:.", "Identifier:b"]],
    ["1.5 .5 1e3 1.5E-3", ["FloatLiteral:1.5", "FloatLiteral:.5", "FloatLiteral:1e3", "FloatLiteral:1.5E-3"]],
    ["1 0x1F 1u 0x1Fu", ["IntLiteral:1", "IntLiteral:0x1F", "UintLiteral:1u", "UintLiteral:0x1Fu"]],
    ["1.e3", ["IntLiteral:1", "Dot:.", "Identifier:e3"]],
    ["0X1", ["IntLiteral:0", "Identifier:X1"]],
    ["a.5", ["Identifier:a", "FloatLiteral:.5"]],
    ["true truex in inner null nullx", ["True:true", "Identifier:truex", "In:in", "Identifier:inner", "Null:null", "Identifier:nullx"]],
    ["b'x' B\"y\" bar r'z' R'''w''' br\"v\"", ["BytesLiteral:b'x'", 'BytesLiteral:B"y"', "Identifier:bar", "StringLiteral:r'z'", "StringLiteral:R'''w'''", 'BytesLiteral:br"v"']],
    ["rb'x'", ["Identifier:rb", "StringLiteral:'x'"]],
    ["'''a'b'''", ["StringLiteral:'''a'b'''"]],
    ['""""', ['StringLiteral:""', 'StringLiteral:""']],
    ["== != <= >= < > && || ! - ? : + * / %", ["Equals:==", "NotEquals:!=", "LessEquals:<=", "GreaterEquals:>=", "Less:<", "Greater:>", "LogicalAnd:&&", "LogicalOr:||", "Exclamation:!", "Minus:-", "Question:?", "Colon::", "Plus:+", "Star:*", "Slash:/", "Percent:%"]],
    ["a // comment\n/ b", ["Identifier:a", "Slash:/", "Identifier:b"]],
    ["`a-b.c/d e_1`", ["EscapedIdentifier:`a-b.c/d e_1`"]],
    ["( ) [ ] { } ,", ["LParen:(", "RParen:)", "LBracket:[", "RBracket:]", "LBrace:{", "RBrace:}", "Comma:,"]],
  ])("%j", (text, tokens) => {
    expect(lex(text)).toEqual(tokens);
  });
});
