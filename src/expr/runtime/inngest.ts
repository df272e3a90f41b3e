/**
 * Runtime functions of the `inngest` dialect: the custom functions Inngest adds to CEL
 * (`lowercase`, `uppercase`, `b64decode`, `json_parse`, `date`, `now`, `now_plus`, `now_minus`)
 * and the helpers behind its loosened operators (Go `%v` concatenation for `+` of mixed types,
 * truthiness for `&&` / `||` / `?:`, zero values for ordering against `null`).
 *
 * Every function takes already-evaluated CEL values (see `values.ts`) and returns a value or a
 * `CelError`; none throws. Missing attributes (Inngest's "unknown") are handled by the caller
 * before these are reached.
 *
 * Where Inngest relies on Go's standard library (`fmt`, `strings`, `encoding/base64`,
 * `encoding/json`, `time.Parse`) the behaviour is reproduced from Go's documented algorithms,
 * including its quirks, one part per Go package in `go/`; the deliberate departures are listed on
 * each function.
 *
 * @module
 */
export { b64decode } from "./go/base64.js";
export { now, nowMinus, nowPlus, parseStr2Duration } from "./go/clock.js";
export { goValueString, inngestConcat } from "./go/format.js";
export { jsonParse, JSON_MAX_DEPTH } from "./go/json.js";
export { lowercase, uppercase } from "./go/strings.js";
export { date } from "./go/time.js";
export { isTruthy, zeroValueLike } from "./go/values.js";
