/**
 * The standard library's string tests: `contains`, `startsWith`, `endsWith`, and `matches`
 * (RE2 in linear time).
 *
 * @module
 */
import { fn, member, overload, T, type FunctionDecl } from "../decls.js";
import { regexMatches } from "../runtime/regex.js";
import * as str from "../runtime/strings.js";

const { bool: b, string: s } = T;

/** String tests. */
export const STRINGS: readonly FunctionDecl[] = [
  fn("contains", member("contains_string", [s, s], b, str.contains)),
  fn("endsWith", member("ends_with_string", [s, s], b, str.endsWith)),
  fn("startsWith", member("starts_with_string", [s, s], b, str.startsWith)),
  fn(
    "matches",
    overload("matches", [s, s], b, (subject: string, pattern: string) => regexMatches(subject, pattern)),
    member("matches_string", [s, s], b, (subject: string, pattern: string) => regexMatches(subject, pattern)),
  ),
];
