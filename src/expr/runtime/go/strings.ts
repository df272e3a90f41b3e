/**
 * Go's `strings.ToLower` / `strings.ToUpper` (Unicode simple case mapping, invalid UTF-8 as
 * U+FFFD), behind Inngest's `lowercase` and `uppercase`.
 *
 * @module
 */
const NON_ASCII = /[^\x00-\x7f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Go replaces bytes that are not UTF-8 by U+FFFD while mapping case; a lone surrogate is the
 * JS counterpart, so it becomes U+FFFD as well.
 */
export function replaceLoneSurrogates(s: string): string {
  return s.replace(LONE_SURROGATE, "\ufffd");
}

/**
 * Go `strings.ToLower`: Unicode simple lowercase mapping, one code point to one code point.
 * Differs from JS `toLowerCase` on `İ` (U+0130 → `i`, not `i̇`) and on a final `Σ` (always `σ`,
 * never `ς`). A non-string argument gives `""`, as Inngest's unguarded implementation does.
 */
export function lowercase(v: unknown): string {
  if (typeof v !== "string") return "";
  if (!NON_ASCII.test(v)) return v.toLowerCase();
  // JS applies exactly two non-simple lowercase rules; pre-map both to their simple forms.
  return replaceLoneSurrogates(v).replace(/\u0130/g, "i").replace(/\u03a3/g, "\u03c3").toLowerCase();
}

/**
 * The code points whose JS `toUpperCase` expands to several (SpecialCasing.txt), and what Go's
 * simple mapping gives for them instead: their UnicodeData simple uppercase where one exists
 * (Greek with ypogegrammeni → the titlecase form with prosgegrammeni), else themselves
 * (`ß`, `ŉ`, `ǰ`, `ΐ`, `ﬀ`, …). A test checks this list against the running ICU.
 */
const SPECIAL_UPPER = /[\u00df\u0149\u01f0\u0390\u03b0\u0587\u1e96-\u1e9a\u1f50\u1f52\u1f54\u1f56\u1f80-\u1faf\u1fb2-\u1fb4\u1fb6\u1fb7\u1fbc\u1fc2-\u1fc4\u1fc6\u1fc7\u1fcc\u1fd2\u1fd3\u1fd6\u1fd7\u1fe2-\u1fe4\u1fe6\u1fe7\u1ff2-\u1ff4\u1ff6\u1ff7\u1ffc\ufb00-\ufb06\ufb13-\ufb17]/;
/** Splits a string into single special code points and runs of ordinary text. */
const SPECIAL_UPPER_SPLIT = new RegExp(`${SPECIAL_UPPER.source}|[^${SPECIAL_UPPER.source.slice(1)}+`, "g");

/** Go's `unicode.ToUpper` for one code point of {@link SPECIAL_UPPER}. */
function simpleUpperOfSpecial(c: number): number {
  if ((c >= 0x1f80 && c <= 0x1f87) || (c >= 0x1f90 && c <= 0x1f97) || (c >= 0x1fa0 && c <= 0x1fa7)) {
    return c + 8;
  }
  if (c === 0x1fb3 || c === 0x1fc3 || c === 0x1ff3) return c + 9;
  return c;
}

/**
 * Go `strings.ToUpper`: Unicode simple uppercase mapping, one code point to one code point. Unlike
 * JS `toUpperCase`, `ß` stays `ß` (not `SS`), `ﬁ` stays `ﬁ`, `ᾳ` becomes `ᾼ` (not `ΑΙ`). A
 * non-string argument gives `""`.
 */
export function uppercase(v: unknown): string {
  if (typeof v !== "string") return "";
  if (!NON_ASCII.test(v)) return v.toUpperCase();
  const s = replaceLoneSurrogates(v);
  if (!SPECIAL_UPPER.test(s)) return s.toUpperCase();
  return s.replace(SPECIAL_UPPER_SPLIT, (part) =>
    part.length === 1 && SPECIAL_UPPER.test(part)
      ? String.fromCharCode(simpleUpperOfSpecial(part.charCodeAt(0)))
      : part.toUpperCase(),
  );
}
