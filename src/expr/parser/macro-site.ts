/**
 * What macro expansion shares: the accumulator names and the site of the call being expanded.
 *
 * @module
 */

/** The hidden accumulator variable of every comprehension a macro produces. */
export const ACCUMULATOR = "@result";
/** cel-go's former accumulator name; still refused as an iteration variable. */
export const LEGACY_ACCUMULATOR = "__result__";

/** Where the call being expanded sits: its id (reused for the expansion) and the `(` token. */
export interface MacroSite {
  readonly id: number;
  readonly start: number;
  readonly end: number;
}

