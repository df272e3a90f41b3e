/**
 * The aggregate matcher: many expressions, one activation → the ids that match.
 *
 * @module
 */
export { Matcher } from "./matcher.js";
export type { MatcherOptions, MatcherStats } from "./matcher.js";
