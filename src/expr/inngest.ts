/**
 * The `inngest` dialect: CEL as Inngest evaluates `if` expressions for triggers, `cancelOn`,
 * `waitForEvent` and bulk cancellation.
 *
 * - Variables `event`, `async` and `vars` are `map(string, dyn)`.
 * - A missing attribute is *unknown*: equal to `null` but to nothing else, ordered before
 *   everything when on the left, and absorbed by calls (see `compiler/inngest-calls.ts`); so is
 *   the error of an absent map key or list element. A result that is unknown is `false`.
 * - Any other evaluation error propagates, as in `cel` (Inngest absorbs it like an unknown, which
 *   can turn an error into a match: deliberately not followed, see `compiler/inngest-calls.ts`).
 * - `+ == != < <= > >=` accept operands of any types; `&&`, `||` and `?:` use truthiness.
 * - Quoted string literals are raw: Inngest lifts them out of the expression before parsing, so
 *   escapes are not decoded (`'\w'` is the two characters `\` and `w`), unless the expression
 *   mentions `vars.`, which turns the lifting off.
 * - Extra functions: `lowercase`, `uppercase`, `b64decode`, `json_parse`, `date`, `now`,
 *   `now_plus`, `now_minus`.
 *
 * @module
 */
import { compileInngestStrict, INNGEST_CALLS } from "./compiler/inngest-calls.js";
import { functionTable, T } from "./decls.js";
import type { Dialect } from "./dialect.js";
import { INNGEST_FUNCTIONS } from "./ext/inngest.js";
import { STRINGS_EXTENSION } from "./ext/strings.js";
import { STANDARD_FUNCTIONS } from "./stdlib/index.js";
import { mapType, type Type } from "./types.js";

const EVENT_MAP: Type = mapType(T.string, T.dyn);

/** The `inngest` dialect. */
export const INNGEST_DIALECT: Dialect = {
  name: "inngest",
  lenient: true,
  // Inngest's `has(x.f)` on a number (or a string) fails, and the run does not match.
  presenceTestErrors: true,
  truthiness: true,
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
  // Inngest lifts quoted literals out of the text unless it mentions `vars.`.
  liftsStrings: (source) => !source.includes("vars."),
  calls: INNGEST_CALLS,
  otherCall: compileInngestStrict,
};
