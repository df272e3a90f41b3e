/**
 * The lexer keeps Chevrotain's first-character optimisation, and every token is matched the way
 * cel-spec's lexer rules define it. The hand-written scanner (`scan.ts`) produces exactly the
 * lexer's tokens or leaves the input to it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scanTokens } from "../../../src/expr/parser/scan.js";
import { allTokens, createCelLexer, lexerConfig, setLiftedStrings } from "../../../src/expr/parser/tokens.js";

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

describe("hand-written scanner", () => {
  const lexer = createCelLexer();
  /** The lexer's tokens, or undefined when it reports an error. */
  const lexed = (text: string, lifted: boolean) => {
    setLiftedStrings(lifted);
    try {
      const result = lexer.tokenize(text);
      return result.errors.length === 0 ? result.tokens : undefined;
    } finally {
      setLiftedStrings(false);
    }
  };

  it("reads typical filters itself", () => {
    for (const text of [
      "event.data.userId == 'user_o9235hf84hf'",
      "event.data.plan == 'enterprise' && event.data.region in ['us-east-1', 'eu-west-1', 'ap-south-1']",
      "event.data.tags.exists(t, t.startsWith('vip'))",
      'size(event.data.items) > 3 || event.data.email.endsWith("@acme.com")',
      "(event.data.amount > 1800.0 ? 'high' : 'low') == 'high'",
      "!(a.b >= -1) && c != null && d <= 2 && e < 3.25 && f % 2 == 1 && g / h * i - j + k > 0 ? true : false",
      "{'a': [1, 2]}\t\n\r\f",
      String.raw`event.data.email.matches('^[a-z0-9._]+@acme\\.com$') && x != 'it\'s \"ok\"' + "\?\a\b\f\n\r\t\v\`"`,
    ]) {
      const tokens = scanTokens(text);
      expect(tokens, text).toBeDefined();
      expect(tokens).toEqual(lexed(text, false));
      // Same object shape as the lexer's tokens: the parser's reads see one hidden class.
      expect(tokens!.map((t) => Object.keys(t).join())).toEqual(lexed(text, false)!.map((t) => Object.keys(t).join()));
    }
  });

  it.each(["a\\'", "b'x'", "r'x'", "'''a'''", "'\\x41'", "'\\101'", "'\\u00e9'", "'\\q'", "'a\\", "1e3", "0x1F", "1u", ".5", "a // c", "`a-b`", "a = b", "a & b", "'open", "é", "1.5e3", "12ab", "'a\nb'", "'a\rb'", "'a\ud800'", "'\u{1F600}'"])(
    "leaves %j to the lexer",
    (text) => {
      expect(scanTokens(text)).toBeUndefined();
    },
  );

  const fragment = fc.constantFrom(
    ..."abc_ xyz in inx true falsey null b r B R 0 12 3.5 1. .5 1e3 0x1F 7u ' \" '' \\ == = != ! <= < >= > && & || | [ ] { } ( ) . , - ? : + * / // % ` é".split(" "),
    " ",
    "\n",
    "\r",
    "\t",
    "'abc'",
    String.raw`'\.'`,
    String.raw`'\''`,
    String.raw`"\""`,
    String.raw`'a\nb'`,
    String.raw`\x41`,
    '"d e"',
    "'''t'''",
    "\u{1F600}",
  );
  for (const lifted of [false, true]) {
    it(`agrees with the lexer wherever it reads the input${lifted ? " (lifted strings)" : ""}`, () => {
      let read = 0;
      fc.assert(
        fc.property(fc.array(fragment, { maxLength: 12 }), (parts) => {
          const text = parts.join("");
          const tokens = scanTokens(text);
          if (tokens === undefined) return;
          read++;
          expect(tokens, JSON.stringify(text)).toEqual(lexed(text, lifted));
        }),
        { numRuns: 3000 },
      );
      // The comparison must not be vacuous.
      expect(read).toBeGreaterThan(300);
    });
  }
});
