/**
 * The cel-go strings extension (latest version): `charAt`, `indexOf`, `lastIndexOf`,
 * `lowerAscii`, `upperAscii`, `replace`, `split`, `substring`, `trim`, `format`, `strings.quote`,
 * `join`, `reverse`.
 *
 * @module
 */
import { fn, member, overload, T, type FunctionDecl } from "../decls.js";
import { formatString } from "../runtime/format.js";
import * as str from "../runtime/strings.js";
import { listType } from "../types.js";

const { int: i, string: s } = T;

/** What these build can be much larger than their arguments: charged by its size. */
const GROWS = { grows: true } as const;

/** The strings extension. */
export const STRINGS_EXTENSION: readonly FunctionDecl[] = [
  fn("charAt", member("string_char_at_int", [s, i], s, str.charAt)),
  fn(
    "indexOf",
    member("string_index_of_string", [s, s], i, (x: string, sub: string) => str.indexOf(x, sub)),
    member("string_index_of_string_int", [s, s, i], i, (x: string, sub: string, offset: bigint) => str.indexOf(x, sub, offset)),
  ),
  fn(
    "lastIndexOf",
    member("string_last_index_of_string", [s, s], i, (x: string, sub: string) => str.lastIndexOf(x, sub)),
    member("string_last_index_of_string_int", [s, s, i], i, (x: string, sub: string, offset: bigint) => str.lastIndexOf(x, sub, offset)),
  ),
  fn("lowerAscii", member("string_lower_ascii", [s], s, str.lowerAscii)),
  fn("upperAscii", member("string_upper_ascii", [s], s, str.upperAscii)),
  fn(
    "replace",
    member("string_replace_string_string", [s, s, s], s, (x: string, a: string, b: string) => str.replace(x, a, b), GROWS),
    member("string_replace_string_string_int", [s, s, s, i], s, (x: string, a: string, b: string, n: bigint) => str.replace(x, a, b, n), GROWS),
  ),
  fn(
    "split",
    member("string_split_string", [s, s], listType(s), (x: string, sep: string) => str.split(x, sep), GROWS),
    member("string_split_string_int", [s, s, i], listType(s), (x: string, sep: string, n: bigint) => str.split(x, sep, n), GROWS),
  ),
  fn(
    "substring",
    member("string_substring_int", [s, i], s, (x: string, start: bigint) => str.substring(x, start)),
    member("string_substring_int_int", [s, i, i], s, (x: string, start: bigint, end: bigint) => str.substring(x, start, end)),
  ),
  fn("trim", member("string_trim", [s], s, str.trim)),
  fn("format", member("string_format", [s, listType(T.dyn)], s, (f: string, args: readonly unknown[]) => formatString(f, args), GROWS)),
  fn("strings.quote", overload("strings_quote", [s], s, str.quote)),
  fn(
    "join",
    member("list_join", [listType(s)], s, (list: readonly unknown[]) => str.join(list), GROWS),
    member("list_join_string", [listType(s), s], s, (list: readonly unknown[], sep: string) => str.join(list, sep), GROWS),
  ),
  fn("reverse", member("string_reverse", [s], s, str.reverse)),
];
