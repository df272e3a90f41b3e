/**
 * The CEL grammar as a Chevrotain parser with embedded actions: rules build our AST directly
 * (no CST). The parser is built once; `parse` resets it with `input =` for every expression.
 *
 * Shape of the grammar (cel-spec `CEL.g4`, with left recursion turned into loops):
 *
 * ```
 * start          = expr EOF
 * expr           = conditionalOr ('?' conditionalOr ':' conditionalOr)*      right-associative
 * conditionalOr  = conditionalAnd ('||' conditionalAnd)*                     balanced like cel-go
 * conditionalAnd = relation ('&&' relation)*
 * relation       = unary (binaryOperator unary)*     precedence: * / %  >  + -  >  relations, in
 * unary          = ('!' | '-')* member
 * member         = primary ('.' IDENT '(' exprList ')' | '.' '?'? field | '[' '?'? expr ']')*
 * primary        = '.'? IDENT ( '(' exprList ')' | ('.' IDENT)* '{' fields '}' )?
 *                | '(' expr ')' | listLiteral | mapLiteral | literal
 * ```
 *
 * Ternaries, binary operators, unary operators and member suffixes are loops, so only brackets
 * make the parser recurse; `parse` bounds the bracket nesting before parsing starts.
 *
 * @module
 */
import { EmbeddedActionsParser, EOF, type IOrAlt, type IToken, type TokenType } from "chevrotain";
import type { Constant, Expr, MapEntry, StructField } from "../ast.js";
import { AstBuilder, RECOVERED } from "./builder.js";
import { decodeBytes, decodeDouble, decodeInt, decodeString, decodeUint, LiteralError } from "./literals.js";
import { expandMacro } from "./macros.js";
import { CelErrorMessages, displayExpected, displayToken, EXPRESSION_START } from "./messages.js";
import * as T from "./tokens.js";

/** Words the grammar lexes as identifiers but CEL reserves; cel-go rejects them after parsing. */
const RESERVED = new Set([
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

interface BinaryOperator {
  readonly fn: string;
  /** Higher binds tighter; all three levels are left-associative. */
  readonly precedence: number;
}

const BINARY_OPERATORS = new Map<TokenType, BinaryOperator>([
  [T.Equals, { fn: "_==_", precedence: 1 }],
  [T.NotEquals, { fn: "_!=_", precedence: 1 }],
  [T.Less, { fn: "_<_", precedence: 1 }],
  [T.LessEquals, { fn: "_<=_", precedence: 1 }],
  [T.Greater, { fn: "_>_", precedence: 1 }],
  [T.GreaterEquals, { fn: "_>=_", precedence: 1 }],
  [T.In, { fn: "@in", precedence: 1 }],
  [T.Plus, { fn: "_+_", precedence: 2 }],
  [T.Minus, { fn: "_-_", precedence: 2 }],
  [T.Star, { fn: "_*_", precedence: 3 }],
  [T.Slash, { fn: "_/_", precedence: 3 }],
  [T.Percent, { fn: "_%_", precedence: 3 }],
]);

/** Per-parse switches of the grammar; see `ParseOptions`. */
export interface GrammarSwitches {
  readonly enableOptionalSyntax: boolean;
  readonly enableBackquotedNames: boolean;
}

function end(token: IToken): number {
  return token.startOffset + token.image.length;
}

/**
 * The parser. Its fields hold the state of the parse in progress (builder, switches and a few
 * registers used instead of closures on the hot path); `parse` owns the single instance.
 */
export class CelGrammar extends EmbeddedActionsParser {
  /** Builds nodes for the parse in progress. */
  b = new AstBuilder();
  switches: GrammarSwitches = { enableOptionalSyntax: false, enableBackquotedNames: true };
  readonly messages: CelErrorMessages;

  /** A lone `-` in front of the next primary, which folds into a numeric literal (`-1`). */
  #pendingSign: IToken | undefined;
  /** The sign offered to the primary being parsed. */
  #sign: IToken | undefined;
  /** The last sign a literal absorbed, so that the unary rule knows not to negate again. */
  #foldedSign: IToken | undefined;
  /** The operand a member suffix (`.f`, `.f()`, `[i]`) applies to. */
  #receiver: Expr = RECOVERED;
  /** The identifier (and leading dot) a primary started with. */
  #name: IToken | undefined;
  #leadingDot: IToken | undefined;
  /** The `!`/`-` tokens in front of the current unary operand. */
  #unaryOperators: IToken[] = [];

  constructor() {
    const messages = new CelErrorMessages();
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider: messages });
    this.messages = messages;
    messages.parser = this;
    this.performSelfAnalysis();
  }

  /** The token `howMuch` positions ahead (1 is the next one); for error messages. */
  lookahead(howMuch: number): IToken {
    return this.LA(howMuch);
  }

  /** Clears the registers before a new parse. */
  resetState(): void {
    this.#pendingSign = undefined;
    this.#sign = undefined;
    this.#foldedSign = undefined;
    this.#receiver = RECOVERED;
    this.#name = undefined;
    this.#leadingDot = undefined;
    this.#unaryOperators.length = 0;
  }

  #idAt(token: IToken): number {
    return this.b.newId(token.startOffset, end(token));
  }

  // ---------------------------------------------------------------------------------------------
  // Rules

  readonly start = this.RULE(
    "start",
    (): Expr => {
      const e = this.SUBRULE(this.expr);
      this.CONSUME(EOF);
      return e;
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  readonly expr = this.RULE(
    "expr",
    (): Expr => {
      const condition = this.SUBRULE(this.conditionalOr);
      let ids: number[] | undefined;
      let branches: Expr[] | undefined;
      this.MANY(() => {
        const question = this.CONSUME(T.Question);
        const id = this.ACTION(() => this.#idAt(question));
        const whenTrue = this.SUBRULE2(this.conditionalOr);
        this.CONSUME(T.Colon);
        const next = this.SUBRULE3(this.conditionalOr);
        this.ACTION(() => {
          (ids ??= []).push(id);
          (branches ??= []).push(whenTrue, next);
        });
      });
      return this.ACTION(() => (ids === undefined ? condition : this.#ternaryChain(condition, ids, branches!)));
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  readonly conditionalOr = this.RULE(
    "conditionalOr",
    (): Expr => {
      const first = this.SUBRULE(this.conditionalAnd);
      let terms: Expr[] | undefined;
      let ids: number[] | undefined;
      this.MANY(() => {
        const op = this.CONSUME(T.LogicalOr);
        const id = this.ACTION(() => this.#idAt(op));
        const term = this.SUBRULE2(this.conditionalAnd);
        this.ACTION(() => {
          (terms ??= [first]).push(term);
          (ids ??= []).push(id);
        });
      });
      return this.ACTION(() => (ids === undefined ? first : this.#balance("_||_", terms!, ids, 0, ids.length - 1)));
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  readonly conditionalAnd = this.RULE(
    "conditionalAnd",
    (): Expr => {
      const first = this.SUBRULE(this.relation);
      let terms: Expr[] | undefined;
      let ids: number[] | undefined;
      this.MANY(() => {
        const op = this.CONSUME(T.LogicalAnd);
        const id = this.ACTION(() => this.#idAt(op));
        const term = this.SUBRULE2(this.relation);
        this.ACTION(() => {
          (terms ??= [first]).push(term);
          (ids ??= []).push(id);
        });
      });
      return this.ACTION(() => (ids === undefined ? first : this.#balance("_&&_", terms!, ids, 0, ids.length - 1)));
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  readonly #binaryOperatorAlts: IOrAlt<IToken>[] = [...BINARY_OPERATORS.keys()].map((type) => ({
    ALT: () => this.CONSUME(type),
  }));

  /** Relations, additions and multiplications: operands in a loop, the tree built by precedence. */
  readonly relation = this.RULE(
    "relation",
    (): Expr => {
      const first = this.SUBRULE(this.unary);
      let operands: Expr[] | undefined;
      let operators: IToken[] | undefined;
      let ids: number[] | undefined;
      this.MANY(() => {
        const op = this.OR(this.#binaryOperatorAlts);
        const id = this.ACTION(() => this.#idAt(op));
        const operand = this.SUBRULE2(this.unary);
        this.ACTION(() => {
          (operands ??= [first]).push(operand);
          (operators ??= []).push(op);
          (ids ??= []).push(id);
        });
      });
      return this.ACTION(() => (ids === undefined ? first : this.#binaryTree(operands!, operators!, ids)));
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  readonly #unaryOperatorAlts: IOrAlt<IToken>[] = [
    { ALT: () => this.CONSUME(T.Exclamation) },
    { ALT: () => this.CONSUME(T.Minus) },
  ];

  readonly #collectUnaryOperator = (): void => {
    const op = this.OR(this.#unaryOperatorAlts);
    this.#unaryOperators.push(op);
  };

  readonly unary = this.RULE(
    "unary",
    (): Expr => {
      this.#unaryOperators.length = 0;
      this.MANY(this.#collectUnaryOperator);
      const operators = this.#unaryOperators.length === 0 ? undefined : [...this.#unaryOperators];
      this.ACTION(() => {
        this.#pendingSign = operators === undefined ? undefined : signToFold(operators);
      });
      const operand = this.SUBRULE(this.member);
      return this.ACTION(() => (operators === undefined ? operand : this.#applyUnary(operators, operand)));
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  readonly #memberSuffixAlts: IOrAlt<Expr>[] = [
    {
      // receiver call: target.name(args)
      ALT: () => {
        const target = this.#receiver;
        this.CONSUME(T.Dot);
        const name = this.CONSUME(T.Identifier);
        const open = this.CONSUME(T.LParen);
        const id = this.ACTION(() => this.#idAt(open));
        const args = this.SUBRULE(this.exprList);
        this.CONSUME(T.RParen);
        return this.ACTION(() => this.#receiverCallOrMacro(id, open, name.image, target, args));
      },
    },
    {
      // field selection: target.name, target.`name`, target.?name
      ALT: () => {
        const target = this.#receiver;
        const dot = this.CONSUME2(T.Dot);
        const question = this.OPTION(() => this.CONSUME(T.Question));
        const name = this.OR2(this.#selectFieldAlts);
        return this.ACTION(() => this.#selection(target, dot, question, name));
      },
    },
    {
      // index: target[index], target[?index]
      ALT: () => {
        const target = this.#receiver;
        const open = this.CONSUME(T.LBracket);
        const question = this.OPTION2(() => this.CONSUME2(T.Question));
        const id = this.ACTION(() => this.#idAt(open));
        const index = this.SUBRULE(this.expr);
        this.CONSUME(T.RBracket);
        return this.ACTION(() => this.#index(id, open, question, target, index));
      },
    },
  ];

  readonly #selectFieldAlts: IOrAlt<IToken>[] = [
    { ALT: () => this.CONSUME2(T.Identifier) },
    { ALT: () => this.CONSUME(T.EscapedIdentifier) },
  ];

  readonly #memberSuffix = (): void => {
    this.#receiver = this.OR(this.#memberSuffixAlts);
  };

  readonly member = this.RULE(
    "member",
    (): Expr => {
      this.#receiver = this.SUBRULE(this.primary);
      this.MANY(this.#memberSuffix);
      return this.#receiver;
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  readonly #consumeLeadingDot = (): IToken => this.CONSUME(T.Dot);

  readonly #isMessageAhead = (): boolean => {
    let k = 1;
    while (this.LA(k).tokenType === T.Dot && this.LA(k + 1).tokenType === T.Identifier) k += 2;
    return this.LA(k).tokenType === T.LBrace;
  };

  readonly #identifierSuffixAlts: IOrAlt<Expr>[] = [
    {
      // global call: name(args), .name(args)
      ALT: () => {
        const dot = this.#leadingDot;
        const name = this.#name!;
        const open = this.CONSUME(T.LParen);
        const id = this.ACTION(() => this.#idAt(open));
        const args = this.SUBRULE(this.exprList);
        this.CONSUME(T.RParen);
        return this.ACTION(() => this.#globalCallOrMacro(id, dot, name, open, args));
      },
    },
    {
      // message construction: pkg.Type{field: value}
      GATE: this.#isMessageAhead,
      ALT: () => {
        const dot = this.#leadingDot;
        const name = this.#name!;
        const parts: IToken[] = [name];
        this.MANY(() => {
          this.CONSUME2(T.Dot);
          parts.push(this.CONSUME2(T.Identifier));
        });
        const open = this.CONSUME(T.LBrace);
        const id = this.ACTION(() => this.#idAt(open));
        const fields = this.SUBRULE(this.fieldInitializerList);
        this.CONSUME(T.RBrace);
        return this.ACTION(() => {
          const typeName = (dot === undefined ? "" : ".") + parts.map((p) => p.image).join(".");
          return this.b.struct(id, typeName, fields);
        });
      },
    },
    {
      // plain identifier
      ALT: () => this.ACTION(() => this.#identifier(this.#leadingDot, this.#name!)),
    },
  ];

  readonly #primaryAlts: IOrAlt<Expr>[] = [
    {
      ALT: () => {
        const dot = this.OPTION(this.#consumeLeadingDot);
        const name = this.CONSUME(T.Identifier);
        this.#leadingDot = dot;
        this.#name = name;
        return this.OR2(this.#identifierSuffixAlts);
      },
    },
    {
      ALT: () => {
        this.CONSUME2(T.LParen);
        const e = this.SUBRULE(this.expr);
        this.CONSUME2(T.RParen);
        return e;
      },
    },
    { ALT: () => this.SUBRULE(this.listLiteral) },
    { ALT: () => this.SUBRULE(this.mapLiteral) },
    {
      ALT: () => {
        const token = this.CONSUME(T.IntLiteral);
        return this.ACTION(() => this.#number(token, "int"));
      },
    },
    {
      ALT: () => {
        const token = this.CONSUME(T.FloatLiteral);
        return this.ACTION(() => this.#number(token, "double"));
      },
    },
    {
      ALT: () => {
        const token = this.CONSUME(T.UintLiteral);
        return this.ACTION(() => this.#number(token, "uint"));
      },
    },
    {
      ALT: () => {
        const token = this.CONSUME(T.StringLiteral);
        return this.ACTION(() => this.#string(token));
      },
    },
    {
      ALT: () => {
        const token = this.CONSUME(T.BytesLiteral);
        return this.ACTION(() => this.#bytes(token));
      },
    },
    {
      ALT: () => {
        const token = this.CONSUME(T.True);
        return this.ACTION(() => this.b.constant(TRUE, token.startOffset, end(token)));
      },
    },
    {
      ALT: () => {
        const token = this.CONSUME(T.False);
        return this.ACTION(() => this.b.constant(FALSE, token.startOffset, end(token)));
      },
    },
    {
      ALT: () => {
        const token = this.CONSUME(T.Null);
        return this.ACTION(() => this.b.constant(NULL, token.startOffset, end(token)));
      },
    },
  ];

  readonly primary = this.RULE(
    "primary",
    (): Expr => {
      this.#sign = this.#pendingSign;
      this.#pendingSign = undefined;
      return this.OR(this.#primaryAlts);
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  /** Call arguments: `expr (',' expr)*`, possibly none. */
  readonly exprList = this.RULE(
    "exprList",
    (): readonly Expr[] => {
      let args: Expr[] | undefined;
      this.OPTION(() => {
        args = [this.SUBRULE(this.expr)];
        this.MANY(() => {
          this.CONSUME(T.Comma);
          args!.push(this.SUBRULE2(this.expr));
        });
      });
      return args ?? NO_ARGS;
    },
    { recoveryValueFunc: () => NO_ARGS },
  );

  /** `[e, ?e, …]` with an optional trailing comma. */
  readonly listLiteral = this.RULE(
    "listLiteral",
    (): Expr => {
      const open = this.CONSUME(T.LBracket);
      const id = this.ACTION(() => this.#idAt(open));
      const elements: Expr[] = [];
      const optionalIndices: number[] = [];
      const element = (idx: number) => {
        const question = this.option(idx, () => this.consume(idx, T.Question));
        const value = this.subrule(idx, this.expr);
        this.ACTION(() => {
          if (question !== undefined) {
            if (this.#optionalAllowed(question, "unsupported syntax '?'")) optionalIndices.push(elements.length);
          }
          elements.push(value);
        });
      };
      this.OPTION(() => {
        element(1);
        this.MANY({
          GATE: () => this.LA(2).tokenType !== T.RBracket,
          DEF: () => {
            this.CONSUME(T.Comma);
            element(2);
          },
        });
      });
      this.OPTION3(() => this.CONSUME2(T.Comma));
      this.CONSUME(T.RBracket);
      return this.ACTION(() => this.b.list(id, elements, optionalIndices));
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  /** `{k: v, ?k: v, …}` with an optional trailing comma. */
  readonly mapLiteral = this.RULE(
    "mapLiteral",
    (): Expr => {
      const open = this.CONSUME(T.LBrace);
      const id = this.ACTION(() => this.#idAt(open));
      const entries: MapEntry[] = [];
      const entry = (idx: number) => {
        const question = this.option(idx, () => this.consume(idx, T.Question));
        const key = this.subrule(idx, this.expr);
        const colon = this.consume(idx, T.Colon);
        const entryId = this.ACTION(() => this.#idAt(colon));
        const value = this.subrule(idx + 10, this.expr);
        this.ACTION(() => {
          const optional = question !== undefined && this.#optionalAllowed(question, "unsupported syntax '?'");
          entries.push(this.b.mapEntry(entryId, key, value, optional));
        });
      };
      this.OPTION(() => {
        entry(1);
        this.MANY({
          GATE: () => this.LA(2).tokenType !== T.RBrace,
          DEF: () => {
            this.CONSUME(T.Comma);
            entry(2);
          },
        });
      });
      this.OPTION3(() => this.CONSUME2(T.Comma));
      this.CONSUME(T.RBrace);
      return this.ACTION(() => this.b.map(id, entries));
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  /** Field-name alternatives per occurrence index (each `or(idx, …)` needs its own consumes). */
  readonly #fieldNameAlts = [1, 2].map((idx): IOrAlt<IToken>[] => [
    { ALT: () => this.consume(idx, T.Identifier) },
    { ALT: () => this.consume(idx, T.EscapedIdentifier) },
  ]);

  /** The `field: value` initialisers of a message construction. */
  readonly fieldInitializerList = this.RULE(
    "fieldInitializerList",
    (): StructField[] => {
      const fields: StructField[] = [];
      const field = (idx: number) => {
        const question = this.option(idx, () => this.consume(idx, T.Question));
        const name = this.or(idx, this.#fieldNameAlts[idx - 1]!);
        const colon = this.consume(idx, T.Colon);
        const fieldId = this.ACTION(() => this.#idAt(colon));
        const value = this.subrule(idx, this.expr);
        this.ACTION(() => {
          const optional = question !== undefined && this.#optionalAllowed(question, "unsupported syntax '?'");
          const fieldName = this.#fieldName(name);
          fields.push(this.b.structField(fieldId, fieldName, value, optional));
        });
      };
      this.OPTION(() => {
        field(1);
        this.MANY({
          GATE: () => this.LA(2).tokenType !== T.RBrace,
          DEF: () => {
            this.CONSUME(T.Comma);
            field(2);
          },
        });
      });
      this.OPTION3(() => this.CONSUME2(T.Comma));
      return fields;
    },
    { recoveryValueFunc: () => [] },
  );

  // ---------------------------------------------------------------------------------------------
  // Actions

  #ternaryChain(first: Expr, ids: readonly number[], branches: readonly Expr[]): Expr {
    // `a ? b : c ? d : e` arrives as conditions a, c and branches b, d, e; it nests to the right.
    let result = branches[branches.length - 1]!;
    for (let i = ids.length - 1; i >= 0; i--) {
      const condition = i === 0 ? first : branches[2 * i - 1]!;
      result = this.b.call(ids[i]!, "_?_:_", [condition, branches[2 * i]!, result]);
    }
    return result;
  }

  /** cel-go's balancing of `&&`/`||` chains: a tree of logarithmic depth over the terms. */
  #balance(fn: string, terms: readonly Expr[], ids: readonly number[], lo: number, hi: number): Expr {
    const mid = (lo + hi + 1) >> 1;
    const left = mid === lo ? terms[mid]! : this.#balance(fn, terms, ids, lo, mid - 1);
    const right = mid === hi ? terms[mid + 1]! : this.#balance(fn, terms, ids, mid + 1, hi);
    return this.b.call2(ids[mid]!, fn, left, right);
  }

  /** Operator-precedence construction of a left-associative binary operator chain. */
  #binaryTree(operands: readonly Expr[], operators: readonly IToken[], ids: readonly number[]): Expr {
    if (operators.length === 1) {
      return this.b.call2(ids[0]!, BINARY_OPERATORS.get(operators[0]!.tokenType)!.fn, operands[0]!, operands[1]!);
    }
    const values: Expr[] = [operands[0]!];
    const pending: number[] = [];
    const reduce = () => {
      const k = pending.pop()!;
      const right = values.pop()!;
      const left = values.pop()!;
      values.push(this.b.call2(ids[k]!, BINARY_OPERATORS.get(operators[k]!.tokenType)!.fn, left, right));
    };
    for (let i = 0; i < operators.length; i++) {
      const precedence = BINARY_OPERATORS.get(operators[i]!.tokenType)!.precedence;
      while (
        pending.length > 0 &&
        BINARY_OPERATORS.get(operators[pending[pending.length - 1]!]!.tokenType)!.precedence >= precedence
      ) {
        reduce();
      }
      pending.push(i);
      values.push(operands[i + 1]!);
    }
    while (pending.length > 0) reduce();
    return values[0]!;
  }

  #applyUnary(operators: readonly IToken[], operand: Expr): Expr {
    let count = operators.length;
    if (this.#foldedSign !== undefined && this.#foldedSign === operators[count - 1]) count--;
    if (count === 0) return operand;
    const first = operators[0]!;
    for (let i = 1; i < count; i++) {
      const op = operators[i]!;
      if (op.tokenType !== first.tokenType) {
        // `!-a` and `-!a`: cel-go's grammar allows one kind of prefix operator per operand.
        const allowed = EXPRESSION_START.filter((t) => t !== op.tokenType);
        this.b.report(
          "syntax",
          `Syntax error: mismatched input ${displayToken(op)} expecting ${displayExpected(allowed)}`,
          op.startOffset,
          end(op),
        );
        return this.b.errorNode(op.startOffset, end(op));
      }
    }
    // An even number of `!` or `-` cancels out, as in cel-go.
    if (count % 2 === 0) return operand;
    const fn = first.tokenType === T.Exclamation ? "!_" : "-_";
    return this.b.call1(this.#idAt(first), fn, operand);
  }

  #identifier(dot: IToken | undefined, name: IToken): Expr {
    const start = (dot ?? name).startOffset;
    if (RESERVED.has(name.image)) {
      this.b.report("reserved_identifier", `reserved identifier: ${name.image}`, start, end(name));
      return this.b.errorNode(start, end(name));
    }
    return this.b.ident(dot === undefined ? name.image : `.${name.image}`, name.startOffset, end(name));
  }

  #globalCallOrMacro(id: number, dot: IToken | undefined, name: IToken, open: IToken, args: readonly Expr[]): Expr {
    if (RESERVED.has(name.image)) {
      const start = (dot ?? name).startOffset;
      this.b.report("reserved_identifier", `reserved identifier: ${name.image}`, start, end(name));
      return this.b.errorNode(start, end(name));
    }
    const fn = dot === undefined ? name.image : `.${name.image}`;
    const site = { id, start: open.startOffset, end: end(open) };
    return expandMacro(this.b, site, fn, undefined, args) ?? this.b.call(id, fn, args);
  }

  #receiverCallOrMacro(id: number, open: IToken, fn: string, target: Expr, args: readonly Expr[]): Expr {
    const site = { id, start: open.startOffset, end: end(open) };
    return expandMacro(this.b, site, fn, target, args) ?? this.b.receiverCall(id, fn, target, args);
  }

  #fieldName(name: IToken): string {
    if (name.tokenType !== T.EscapedIdentifier) return name.image;
    if (!this.switches.enableBackquotedNames) {
      this.b.report("unsupported_syntax", "unsupported syntax: '`'", name.startOffset, end(name));
    }
    return name.image.slice(1, -1);
  }

  #optionalAllowed(question: IToken, message: string): boolean {
    if (this.switches.enableOptionalSyntax) return true;
    this.b.report("unsupported_syntax", message, question.startOffset, end(question));
    return false;
  }

  #selection(target: Expr, dot: IToken, question: IToken | undefined, name: IToken): Expr {
    const field = this.#fieldName(name);
    if (question === undefined) return this.b.select(this.#idAt(dot), target, field, false);
    if (!this.#optionalAllowed(dot, "unsupported syntax '.?'")) return this.b.errorNode(dot.startOffset, end(question));
    const fieldName = this.b.constant({ kind: "string", value: field }, name.startOffset, end(name));
    return this.b.call2(this.#idAt(dot), "_?._", target, fieldName);
  }

  #index(id: number, open: IToken, question: IToken | undefined, target: Expr, index: Expr): Expr {
    if (question === undefined) return this.b.call2(id, "_[_]", target, index);
    if (!this.#optionalAllowed(open, "unsupported syntax '[?'")) return this.b.errorNode(open.startOffset, end(question));
    return this.b.call2(id, "_[?_]", target, index);
  }

  #number(token: IToken, kind: "int" | "uint" | "double"): Expr {
    // A `-` directly in front of an int or double literal is part of the literal (cel-go's
    // grammar), so `-9223372036854775808` is in range and `4--4` is `4 - (-4)`.
    const sign = kind === "uint" ? undefined : this.#sign;
    if (sign !== undefined) this.#foldedSign = sign;
    const start = sign === undefined ? token.startOffset : sign.startOffset;
    const negative = sign !== undefined;
    let value: Constant | LiteralError;
    if (kind === "int") {
      const v = decodeInt(token.image, negative);
      value = v instanceof LiteralError ? v : { kind, value: v };
    } else if (kind === "uint") {
      const v = decodeUint(token.image);
      value = v instanceof LiteralError ? v : { kind, value: v };
    } else {
      const v = decodeDouble(token.image, negative);
      value = v instanceof LiteralError ? v : { kind, value: v };
    }
    return this.#literal(value, start, end(token));
  }

  #string(token: IToken): Expr {
    const v = decodeString(token.image);
    return this.#literal(v instanceof LiteralError ? v : { kind: "string", value: v }, token.startOffset, end(token));
  }

  #bytes(token: IToken): Expr {
    const v = decodeBytes(token.image);
    return this.#literal(v instanceof LiteralError ? v : { kind: "bytes", value: v }, token.startOffset, end(token));
  }

  #literal(value: Constant | LiteralError, start: number, stop: number): Expr {
    if (value instanceof LiteralError) {
      this.b.report("invalid_literal", value.message, start, stop);
      return this.b.errorNode(start, stop);
    }
    return this.b.constant(value, start, stop);
  }
}

const NO_ARGS: readonly Expr[] = Object.freeze([]);
const TRUE: Constant = Object.freeze({ kind: "bool", value: true });
const FALSE: Constant = Object.freeze({ kind: "bool", value: false });
const NULL: Constant = Object.freeze({ kind: "null" });

/** The `-` that may fold into a numeric literal: a single `-`, possibly after `!`s (`!-1`). */
function signToFold(operators: readonly IToken[]): IToken | undefined {
  const last = operators[operators.length - 1]!;
  if (last.tokenType !== T.Minus) return undefined;
  for (let i = 0; i < operators.length - 1; i++) {
    if (operators[i]!.tokenType !== T.Exclamation) return undefined;
  }
  return last;
}
