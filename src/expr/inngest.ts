/**
 * The `inngest` dialect: CEL as Inngest evaluates `if` expressions for triggers, `cancelOn`,
 * `waitForEvent` and bulk cancellation.
 *
 * - Variables `event`, `async` and `vars` are `map(string, dyn)`.
 * - A missing attribute is *unknown*: equal to `null` but to nothing else, ordered before
 *   everything when on the left, and absorbed by calls (see `compiler/inngest-calls.ts`). A
 *   result that is unknown is `false`.
 * - `+ == != < <= > >=` accept operands of any types; `&&`, `||` and `?:` use truthiness.
 * - Quoted string literals are raw: Inngest lifts them out of the expression before parsing, so
 *   escapes are not decoded (`'\w'` is the two characters `\` and `w`), unless the expression
 *   mentions `vars.`, which turns the lifting off.
 * - Extra functions: `lowercase`, `uppercase`, `b64decode`, `json_parse`, `date`, `now`,
 *   `now_plus`, `now_minus`.
 *
 * @module
 */
import { compileInngestCall } from "./compiler/inngest-calls.js";
import { fn, functionTable, overload, T, type FunctionDecl } from "./decls.js";
import type { Dialect } from "./dialect.js";
import { b64decode, date, jsonParse, lowercase, uppercase } from "./runtime/inngest.js";
import { STANDARD_FUNCTIONS, STRINGS_EXTENSION } from "./stdlib.js";
import { mapType, type Type } from "./types.js";

/** The functions Inngest adds to CEL. Arguments are `dyn`: Inngest does not guard their types. */
export const INNGEST_FUNCTIONS: readonly FunctionDecl[] = [
  fn("lowercase", overload("inngest_lowercase", [T.dyn], T.string, lowercase)),
  fn("uppercase", overload("inngest_uppercase", [T.dyn], T.string, uppercase)),
  fn("b64decode", overload("inngest_b64decode", [T.dyn], T.string, b64decode)),
  fn("json_parse", overload("inngest_json_parse", [T.dyn], T.dyn, jsonParse)),
  fn("date", overload("inngest_date", [T.dyn], T.timestamp, date)),
  // The clock functions are compiled specially (they read the evaluation's clock).
  fn("now", overload("inngest_now", [], T.timestamp)),
  fn("now_plus", overload("inngest_now_plus", [T.dyn], T.timestamp)),
  fn("now_minus", overload("inngest_now_minus", [T.dyn], T.timestamp)),
];

const EVENT_MAP: Type = mapType(T.string, T.dyn);

/** The `inngest` dialect. */
export const INNGEST_DIALECT: Dialect = {
  name: "inngest",
  lenient: true,
  functions: functionTable(STANDARD_FUNCTIONS, STRINGS_EXTENSION, INNGEST_FUNCTIONS),
  defaultVariables: new Map([
    ["event", EVENT_MAP],
    ["async", EVENT_MAP],
    ["vars", EVENT_MAP],
  ]),
  looseOperators: new Map<string, Type>([
    ["_+_", T.dyn],
    ["_==_", T.bool],
    ["_!=_", T.bool],
    ["_<_", T.bool],
    ["_<=_", T.bool],
    ["_>_", T.bool],
    ["_>=_", T.bool],
  ]),
  compileCall: compileInngestCall,
};
