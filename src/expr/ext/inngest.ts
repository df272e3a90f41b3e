/**
 * The functions Inngest adds to CEL: `lowercase`, `uppercase`, `b64decode`, `json_parse`, `date`,
 * `now`, `now_plus`, `now_minus`. Their arguments are `dyn`: Inngest does not guard their types.
 * The implementations reproduce the Go library calls Inngest makes (see `runtime/inngest.ts`).
 *
 * @module
 */
import { fn, overload, T, type FunctionDecl } from "../decls.js";
import { b64decode, date, jsonParse, lowercase, uppercase } from "../runtime/inngest.js";

/** What these build can be much larger than their arguments: charged by its size. */
const GROWS = { grows: true } as const;

/**
 * The clock functions read the evaluation's clock, which no overload implementation sees: the
 * dialect compiles them (`inngest_now`, … in `compiler/inngest-calls.ts`), and they are never folded.
 */
const CLOCK = { impure: true } as const;

/** Inngest's functions. */
export const INNGEST_FUNCTIONS: readonly FunctionDecl[] = [
  fn("lowercase", overload("inngest_lowercase", [T.dyn], T.string, lowercase, GROWS)),
  fn("uppercase", overload("inngest_uppercase", [T.dyn], T.string, uppercase, GROWS)),
  fn("b64decode", overload("inngest_b64decode", [T.dyn], T.string, b64decode)),
  fn("json_parse", overload("inngest_json_parse", [T.dyn], T.dyn, jsonParse)),
  fn("date", overload("inngest_date", [T.dyn], T.timestamp, date)),
  fn("now", overload("inngest_now", [], T.timestamp, undefined, CLOCK)),
  fn("now_plus", overload("inngest_now_plus", [T.dyn], T.timestamp, undefined, CLOCK)),
  fn("now_minus", overload("inngest_now_minus", [T.dyn], T.timestamp, undefined, CLOCK)),
];
