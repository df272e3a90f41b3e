/**
 * The single check every generator of JavaScript in this folder goes through.
 *
 * @module
 */

let compilesStrings: boolean | undefined;

/**
 * Whether generated JavaScript may run: the caller allows it (`allowed`, from the `fastPaths`
 * option) and the runtime compiles code from strings, which a Content-Security-Policy or
 * `--disallow-code-generation-from-strings` forbids. Where it may not, the plain closures and
 * the prototype's entry points run alone, with the same results.
 */
export function mayGenerateCode(allowed: boolean): boolean {
  if (!allowed) return false;
  if (compilesStrings === undefined) {
    try {
      compilesStrings = new Function("return 1")() === 1;
    } catch {
      compilesStrings = false;
    }
  }
  return compilesStrings;
}
