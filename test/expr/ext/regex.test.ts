/**
 * The regex extension, on the cases of cel-go's `ext/regex_test.go`, and its linear time: a
 * pattern that backtracking engines take exponential time on runs at once here.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../../src/expr/program.js";
import { goldenCases } from "./golden.js";

goldenCases("regex extension (cel-go's ext/regex_test.go)", ["regex"], [
  { expr: "regex.replace('abc', '^', 'start_') == 'start_abc'" },
  { expr: "regex.replace('abc', '$', '_end') == 'abc_end'" },
  { expr: String.raw`regex.replace('a-b', r'\b', '|') == '|a|-|b|'` },
  { expr: String.raw`regex.replace('foo bar', '(fo)o (ba)r', r'\2 \1') == 'ba fo'` },
  { expr: String.raw`regex.replace('foo bar', 'foo', r'\\') == '\\ bar'` },
  { expr: "regex.replace('banana', 'ana', 'x') == 'bxna'" },
  { expr: String.raw`regex.replace('abc', 'b(.)', r'x\1') == 'axc'` },
  { expr: "regex.replace('hello world hello', 'hello', 'hi') == 'hi world hi'" },
  { expr: String.raw`regex.replace('ac', 'a(b)?c', r'[\1]') == '[]'` },
  { expr: "regex.replace('apple pie', 'p', 'X') == 'aXXle Xie'" },
  { expr: String.raw`regex.replace('remove all spaces', r'\s', '') == 'removeallspaces'` },
  { expr: String.raw`regex.replace('digit:99919291992', r'\d+', '3') == 'digit:3'` },
  { expr: String.raw`regex.replace('foo bar baz', r'\w+', r'(\0)') == '(foo) (bar) (baz)'` },
  { expr: "regex.replace('', 'a', 'b') == ''" },
  {
    expr: "regex.replace('User: Alice, Age: 30', r'User: (?P<name>\\w+), Age: (?P<age>\\d+)', '${name} is ${age} years old') == '${name} is ${age} years old'",
  },
  { expr: String.raw`regex.replace('User: Alice, Age: 30', r'User: (?P<name>\w+), Age: (?P<age>\d+)', r'\1 is \2 years old') == 'Alice is 30 years old'` },
  { expr: "regex.replace('hello ☃', '☃', '❄') == 'hello ❄'" },
  { expr: String.raw`regex.replace('id=123', r'id=(?P<value>\d+)', r'value: \1') == 'value: 123'` },
  { expr: "regex.replace('banana', 'a', 'x') == 'bxnxnx'" },
  { expr: "regex.replace(regex.replace('%(foo) %(bar) %2', r'%\\((\\w+)\\)', r'${\\1}'),r'%(\\d+)', r'$\\1') == '${foo} ${bar} $2'" },
  { expr: "regex.replace('banana', 'a', 'x', 0) == 'banana'" },
  { expr: "regex.replace('banana', 'a', 'x', 1) == 'bxnana'" },
  { expr: "regex.replace('banana', 'a', 'x', 2) == 'bxnxna'" },
  { expr: "regex.replace('banana', 'a', 'x', 100) == 'bxnxnx'" },
  { expr: "regex.replace('banana', 'a', 'x', -1) == 'bxnxnx'" },
  { expr: "regex.replace('banana', 'a', 'x', -100) == 'bxnxnx'" },
  { expr: String.raw`regex.replace('cat-dog dog-cat cat-dog dog-cat', '(cat)-(dog)', r'\2-\1', 1) == 'dog-cat dog-cat cat-dog dog-cat'` },
  { expr: String.raw`regex.replace('cat-dog dog-cat cat-dog dog-cat', '(cat)-(dog)', r'\2-\1', 2) == 'dog-cat dog-cat dog-cat dog-cat'` },
  { expr: String.raw`regex.replace('a.b.c', r'\.', '-', 1) == 'a-b.c'` },
  { expr: String.raw`regex.replace('a.b.c', r'\.', '-', -1) == 'a-b-c'` },
  { expr: String.raw`regex.replace('abc def', r'(abc)', r'\\1') == r'\1 def'` },
  { expr: String.raw`regex.replace('abc def', r'(abc)', r'\\2') == r'\2 def'` },
  { expr: String.raw`regex.replace('abc def', r'(abc)', r'\\{word}') == '\\{word} def'` },
  { expr: String.raw`regex.replace('abc def', r'(abc)', r'\\word') == '\\word def'` },
  { expr: "regex.replace('aaaaaa', 'a', '-what-') == '-what--what--what--what--what--what-'" },
  { expr: String.raw`regex.replace('foo bar', r'(foo bar)', r'\1\1\1\1\1' ) == 'foo barfoo barfoo barfoo barfoo bar'` },
  { expr: String.raw`regex.replace('foo bar', r'(foo bar)', '') == ''` },
  { expr: "regex.extract('hello world', 'hello(.*)') == optional.of(' world')" },
  { expr: String.raw`regex.extract('item-A, item-B', r'item-(\w+)') == optional.of('A')` },
  { expr: String.raw`regex.extract('The color is red', r'The color is (\w+)') == optional.of('red')` },
  { expr: String.raw`regex.extract('The color is red', r'The color is \w+') == optional.of('The color is red')` },
  { expr: "regex.extract('brand', 'brand') == optional.of('brand')" },
  { expr: "regex.extract('hello world', 'goodbye (.*)') == optional.none()" },
  { expr: "regex.extract('HELLO', 'hello') == optional.none()" },
  { expr: String.raw`regex.extract('', r'\w+') == optional.none()` },
  { expr: "regex.extract('4122345432', '22').or(optional.of('777')) == optional.of('22')" },
  { expr: "regex.extract('4122345432', '22').orValue('777') == '22'" },
  { expr: "regex.extractAll('id:123, id:456', 'assa') == []" },
  { expr: String.raw`regex.extractAll('id:123, id:456', r'id:\d+') == ['id:123', 'id:456']` },
  { expr: String.raw`regex.extractAll('Files: f_1.txt, f_2.csv', r'f_(\d+)') == ['1', '2']` },
  { expr: "regex.extractAll('testuser@', '(?P<username>.*)@') == ['testuser']" },
  {
    expr: "regex.extractAll('testuser@gmail.com, a@y.com, 2312321wsamkldjq2w2@sdad.com', '(?P<username>.*)@') == ['testuser@gmail.com, a@y.com, 2312321wsamkldjq2w2']",
  },
  {
    expr: String.raw`regex.extractAll('testuser@gmail.com, a@y.com, 2312321wsamkldjq2w2@sdad.com', r'(?P<username>\w+)@') == ['testuser', 'a', '2312321wsamkldjq2w2']`,
  },
  { expr: "regex.extractAll('banananana', '(ana)') == ['ana', 'ana']" },
  { expr: String.raw`regex.extractAll('item:a1, topic:b2', r'(?:item:|topic:)([a-z]\d)') == ['a1', 'b2']` },
  { expr: "regex.extractAll('val=a, val=, val=c', 'val=([^,]*)') == ['a', 'c']" },
  { expr: "regex.extractAll('key=, key=, key=', 'key=([^,]*)') == []" },
  { expr: String.raw`regex.extractAll('a b c', r'(\S*)\s*') == ['a', 'b', 'c']` },
  // Errors (cel-go reports the overload mismatches when checking).
  { expr: "regex.replace('abc', '^', 1)", err: "found no matching overload for 'regex.replace' applied to '(string, string, int)'" },
  { expr: "regex.replace('abc', '^', '1','')", err: "found no matching overload for 'regex.replace' applied to '(string, string, string, string)'" },
  { expr: "regex.extract('foo bar', 1)", err: "found no matching overload for 'regex.extract' applied to '(string, int)'" },
  { expr: "regex.extractAll()", err: "found no matching overload for 'regex.extractAll' applied to '()'" },
  { expr: "regex.extract('foo bar', '(')", err: "missing closing )" },
  { expr: "regex.extractAll('foo bar', '[a-z')", err: "missing closing ]" },
  { expr: String.raw`regex.replace('id=123', r'id=(?P<value>\d+)', r'value: \values')`, err: String.raw`invalid replacement string: 'value: \values' \ must be followed by a digit` },
  { expr: String.raw`regex.replace('test', '(.)', r'\2')`, err: "replacement string references group 2 but regex has only 1 group(s)" },
  { expr: String.raw`regex.replace('id=123', r'id=(?P<value>\d+)', r'value: \')`, err: String.raw`invalid replacement string: 'value: \' \ not allowed at end` },
  { expr: String.raw`regex.extract('phone: 415-5551212', r'phone: ((\d{3})-)?')`, err: String.raw`regular expression has more than one capturing group: "phone: ((\\d{3})-)?"` },
  { expr: String.raw`regex.extractAll('testuser@testdomain', '(.*)@([^.]*)')`, err: 'regular expression has more than one capturing group: "(.*)@([^.]*)"' },
]);

describe("regex extension in linear time", () => {
  it("answers a pattern that makes a backtracking engine take exponential time", () => {
    const p = compile("regex.replace(s, '(a+)+$', 'x') == s", { extensions: ["regex"] });
    expect(p.evaluate({ s: `${"a".repeat(5000)}b` })).toBe(true);
  });
});
