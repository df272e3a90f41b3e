/**
 * The CEL grammar as a Chevrotain parser with embedded actions: rules build our AST directly
 * (no CST). The parser is built once; `parse` resets it with `input =` for every expression.
 * Valid filters are usually parsed by the hand-written fast path (`fast.ts`) instead, which builds
 * the same tree; this grammar parses whatever the fast path gives up on and so is the reference
 * for every syntax error and its message.
 *
 * The grammar is cel-spec's `CEL.g4` with left recursion turned into loops and the binary
 * precedence levels folded into one rule (fewer rule invocations per operand is what makes a
 * Chevrotain parser fast):
 *
 * ```
 * start   = expr EOF
 * expr    = binary ('?' binary ':' binary)*          a ? b : c ? d : e nests to the right
 * binary  = operand (binaryOperator operand)*
 *             precedence, loosest first: ||  &&  (== != < <= > >= in)  (+ -)  (* / %);
 *             || and && chains are balanced as cel-go does, the others associate to the left
 * operand = ('!' | '-')* primary memberSuffix*
 * primary = IDENT ('(' exprList ')')? | messageConstruction | rootedName
 *         | '(' expr ')' | listLiteral | mapLiteral | literal
 * messageConstruction = IDENT ('.' IDENT)* '{' fieldInitializerList '}'
 * rootedName = '.' (messageConstruction | IDENT ('(' exprList ')')?)
 * memberSuffix = '.' IDENT '(' exprList ')' | '.' '?'? (IDENT | ESC_IDENTIFIER) | '[' '?'? expr ']'
 * ```
 *
 * Ternaries, binary operators, prefix operators and member suffixes are loops, so only brackets
 * make the parser recurse; `parse` bounds the bracket nesting before parsing starts.
 *
 * @module
 */
import { EmbeddedActionsParser, EOF, type IOrAlt, type IToken } from "chevrotain";
import type { Constant, Expr, MapEntry, StructField } from "../ast.js";
import { AstBuilder, RECOVERED } from "./builder.js";
import {
  BINARY_OPERATORS,
  chainTree,
  FALSE_CONSTANT,
  NULL_CONSTANT,
  RESERVED,
  ternaryChain,
  TRUE_CONSTANT,
  type Chain,
} from "./chains.js";
import { decodeBytes, decodeDouble, decodeInt, decodeString, decodeUint, LiteralError } from "./literals.js";
import { expandMacro } from "./macros.js";
import { CelErrorMessages, displayExpected, displayToken, EXPRESSION_START } from "./messages.js";
import * as T from "./tokens.js";

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
 * registers used instead of closures on the hot path); `parse` owns the instances.
 */
export class CelGrammar extends EmbeddedActionsParser {
  /** Builds nodes for the parse in progress. */
  b = new AstBuilder();
  switches: GrammarSwitches = { enableOptionalSyntax: false, enableBackquotedNames: true };
  readonly messages: CelErrorMessages;

  /** The `-` directly in front of the current operand's primary, which folds into a number. */
  #sign: IToken | undefined;
  /** The last sign a literal absorbed, so that the operand rule does not negate again. */
  #foldedSign: IToken | undefined;
  /** The operand a member suffix (`.f`, `.f()`, `[i]`) applies to. */
  #receiver: Expr = RECOVERED;
  /** Target, dot and field name of the member suffix being parsed. */
  #suffixTarget: Expr = RECOVERED;
  #suffixDot: IToken | undefined;
  #suffixName: IToken | undefined;
  /** The identifier a primary started with. */
  #name: IToken | undefined;
  /** The leading dot of the message construction about to be parsed. */
  #messageDot: IToken | undefined;
  /** The `!`/`-` tokens in front of the current operand. */
  #prefixOperators: IToken[] = [];
  /** The first operand of a binary chain, or the condition of a ternary, about to be extended. */
  #head: Expr = RECOVERED;

  /** @param recovers Chevrotain error recovery: on to report several errors, off to fail fast. */
  constructor(readonly recovers: boolean) {
    const messages = new CelErrorMessages();
    super(T.parserTokens, { recoveryEnabled: recovers, maxLookahead: 3, errorMessageProvider: messages });
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
    this.#sign = undefined;
    this.#foldedSign = undefined;
    this.#receiver = RECOVERED;
    this.#suffixTarget = RECOVERED;
    this.#suffixDot = undefined;
    this.#suffixName = undefined;
    this.#name = undefined;
    this.#messageDot = undefined;
    this.#prefixOperators.length = 0;
    this.#head = RECOVERED;
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

  /** `? whenTrue : whenFalse` parts after a condition; taken only when a `?` follows. */
  readonly #ternaryTail = (): Expr => {
    const condition = this.#head;
    const ids: number[] = [];
    const branches: Expr[] = [];
    this.AT_LEAST_ONE(() => {
      const question = this.CONSUME(T.Question);
      const id = this.ACTION(() => this.#idAt(question));
      const whenTrue = this.SUBRULE2(this.binary);
      this.CONSUME(T.Colon);
      const next = this.SUBRULE3(this.binary);
      ids.push(id);
      branches.push(whenTrue, next);
    });
    return this.ACTION(() => ternaryChain(this.b, condition, ids, branches));
  };

  readonly expr = this.RULE(
    "expr",
    (): Expr => {
      const condition = this.SUBRULE(this.binary);
      this.#head = condition;
      return this.OPTION(this.#ternaryTail) ?? condition;
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  readonly #binaryOperatorAlts: IOrAlt<IToken>[] = [...BINARY_OPERATORS.keys()].map((type) => ({
    ALT: () => this.CONSUME(type),
  }));

  /** The operators and further operands of a binary chain; taken only when an operator follows. */
  readonly #binaryTail = (): Expr => {
    const chain: Chain = { operands: [this.#head], ops: [], ids: [] };
    this.AT_LEAST_ONE(() => {
      const op = this.OR(this.#binaryOperatorAlts);
      const id = this.ACTION(() => this.#idAt(op));
      const operand = this.SUBRULE2(this.operand);
      this.ACTION(() => {
        chain.ops.push(BINARY_OPERATORS.get(op.tokenType)!);
        chain.ids.push(id);
        chain.operands.push(operand);
      });
    });
    return this.ACTION(() => chainTree(this.b, chain));
  };

  readonly binary = this.RULE(
    "binary",
    (): Expr => {
      const first = this.SUBRULE(this.operand);
      this.#head = first;
      return this.OPTION(this.#binaryTail) ?? first;
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  readonly #prefixOperatorAlts: IOrAlt<IToken>[] = [
    { ALT: () => this.CONSUME(T.Exclamation) },
    { ALT: () => this.CONSUME(T.Minus) },
  ];

  readonly #collectPrefixOperator = (): void => {
    this.#prefixOperators.push(this.OR(this.#prefixOperatorAlts));
  };

  readonly #memberSuffix = (): void => {
    this.#receiver = this.OR4(this.#memberSuffixAlts);
  };

  /** Prefix operators, a primary and its member suffixes (cel-go's unary, member and primary). */
  readonly operand = this.RULE(
    "operand",
    (): Expr => {
      if (this.#prefixOperators.length !== 0) this.#prefixOperators.length = 0;
      this.MANY(this.#collectPrefixOperator);
      const prefix = this.#prefixOperators.length === 0 ? undefined : [...this.#prefixOperators];
      this.#sign = prefix === undefined ? undefined : signToFold(prefix);
      this.#receiver = this.OR2(this.#primaryAlts);
      this.MANY2(this.#memberSuffix);
      const result = this.#receiver;
      return prefix === undefined ? result : this.ACTION(() => this.#applyPrefix(prefix, result));
    },
    { recoveryValueFunc: () => RECOVERED },
  );

  readonly #identifierSuffixAlts: IOrAlt<Expr>[] = [
    {
      // global call: name(args)
      ALT: () => {
        const name = this.#name!;
        const open = this.CONSUME(T.LParen);
        const id = this.ACTION(() => this.#idAt(open));
        const args = this.SUBRULE(this.exprList);
        this.CONSUME(T.RParen);
        return this.ACTION(() => this.#globalCallOrMacro(id, undefined, name, open, args));
      },
    },
    {
      // plain identifier
      ALT: () => this.ACTION(() => this.#identifier(undefined, this.#name!)),
    },
  ];

  readonly #primaryAlts: IOrAlt<Expr>[] = [
    {
      ALT: () => {
        this.#name = this.CONSUME(T.Identifier);
        return this.OR3(this.#identifierSuffixAlts);
      },
    },
    {
      ALT: () => {
        this.#messageDot = undefined;
        return this.SUBRULE(this.messageConstruction);
      },
    },
    { ALT: () => this.SUBRULE(this.rootedName) },
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
        return this.ACTION(() => this.b.constant(TRUE_CONSTANT, token.startOffset, end(token)));
      },
    },
    {
      ALT: () => {
        const token = this.CONSUME(T.False);
        return this.ACTION(() => this.b.constant(FALSE_CONSTANT, token.startOffset, end(token)));
      },
    },
    {
      ALT: () => {
        const token = this.CONSUME(T.Null);
        return this.ACTION(() => this.b.constant(NULL_CONSTANT, token.startOffset, end(token)));
      },
    },
  ];

  readonly #memberSuffixAlts: IOrAlt<Expr>[] = [
    {
      // After `.` the decision is taken on the dot alone, as in cel-go, so `a.true` reports the
      // token after the dot.
      ALT: () => {
        this.#suffixTarget = this.#receiver;
        this.#suffixDot = this.CONSUME3(T.Dot);
        return this.OR5(this.#afterDotAlts);
      },
    },
    {
      // index: target[index], target[?index]
      ALT: () => {
        const target = this.#receiver;
        const open = this.CONSUME(T.LBracket);
        const question = this.OPTION2(() => this.CONSUME2(T.Question));
        const id = this.ACTION(() => this.#idAt(open));
        const index = this.SUBRULE2(this.expr);
        this.CONSUME(T.RBracket);
        return this.ACTION(() => this.#index(id, open, question, target, index));
      },
    },
  ];

  readonly #afterDotAlts: IOrAlt<Expr>[] = [
    {
      // target.name or target.name(args)
      ALT: () => {
        this.#suffixName = this.CONSUME3(T.Identifier);
        return this.OR6(this.#afterFieldNameAlts);
      },
    },
    {
      // target.`name`
      ALT: () => {
        const target = this.#suffixTarget;
        const dot = this.#suffixDot!;
        const name = this.CONSUME(T.EscapedIdentifier);
        return this.ACTION(() => this.#selection(target, dot, undefined, name));
      },
    },
    {
      // target.?name, target.?`name`
      ALT: () => {
        const target = this.#suffixTarget;
        const dot = this.#suffixDot!;
        const question = this.CONSUME(T.Question);
        const name = this.OR7(this.#optionalFieldAlts);
        return this.ACTION(() => this.#selection(target, dot, question, name));
      },
    },
  ];

  readonly #optionalFieldAlts: IOrAlt<IToken>[] = [
    { ALT: () => this.CONSUME4(T.Identifier) },
    { ALT: () => this.CONSUME2(T.EscapedIdentifier) },
  ];

  readonly #afterFieldNameAlts: IOrAlt<Expr>[] = [
    {
      // receiver call: target.name(args)
      ALT: () => {
        const target = this.#suffixTarget;
        const name = this.#suffixName!;
        const open = this.CONSUME3(T.LParen);
        const id = this.ACTION(() => this.#idAt(open));
        const args = this.SUBRULE2(this.exprList);
        this.CONSUME3(T.RParen);
        return this.ACTION(() => this.#receiverCallOrMacro(id, open, name.image, target, args));
      },
    },
    {
      // field selection: target.name
      ALT: () => this.ACTION(() => this.#selection(this.#suffixTarget, this.#suffixDot!, undefined, this.#suffixName!)),
    },
  ];

  /** `pkg.Type{field: value, …}`; `parse` retags the first name so that one token decides. */
  readonly messageConstruction = this.RULE(
    "messageConstruction",
    (): Expr => {
      const dot = this.#messageDot;
      const parts: IToken[] = [this.CONSUME(T.MessageName)];
      this.MANY(() => {
        this.CONSUME(T.Dot);
        parts.push(this.CONSUME(T.Identifier));
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
    { recoveryValueFunc: () => RECOVERED },
  );

  /** `.name`, `.name(args)` or `.pkg.Type{…}`: a name resolved from the root scope. */
  readonly rootedName = this.RULE(
    "rootedName",
    (): Expr => {
      const dot = this.CONSUME(T.Dot);
      return this.OR([
        {
          ALT: () => {
            this.#messageDot = dot;
            return this.SUBRULE(this.messageConstruction);
          },
        },
        {
          ALT: () => {
            const name = this.CONSUME(T.Identifier);
            let call: { open: IToken; id: number; args: readonly Expr[] } | undefined;
            this.OPTION(() => {
              const open = this.CONSUME(T.LParen);
              const id = this.ACTION(() => this.#idAt(open));
              const args = this.SUBRULE(this.exprList);
              this.CONSUME(T.RParen);
              call = { open, id, args };
            });
            return this.ACTION(() =>
              call === undefined
                ? this.#identifier(dot, name)
                : this.#globalCallOrMacro(call.id, dot, name, call.open, call.args),
            );
          },
        },
      ]);
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

  #applyPrefix(operators: readonly IToken[], operand: Expr): Expr {
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
    const v = decodeString(token.image, this.b.liftedStrings);
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

/** The `-` that may fold into a numeric literal: a single `-`, possibly after `!`s (`!-1`). */
function signToFold(operators: readonly IToken[]): IToken | undefined {
  const last = operators[operators.length - 1]!;
  if (last.tokenType !== T.Minus) return undefined;
  for (let i = 0; i < operators.length - 1; i++) {
    if (operators[i]!.tokenType !== T.Exclamation) return undefined;
  }
  return last;
}
