/**
 * Everything that generates JavaScript, behind one seam: the compiler's decorator (generated field
 * accessors and boolean fast paths) and a program's own entry points. Each is a speed-up only:
 * without this folder — or where {@link mayGenerateCode} says no — the plain closures and the
 * prototype's methods give the same results, which the differential tests check.
 *
 * @module
 */
export { mayGenerateCode } from "./available.js";
export { DEFAULT_FAST_PATHS_AFTER, jitDecorator } from "./decorator.js";
export { specialiseEntries } from "./entry.js";
export type { EntryParts, SpecialisedEntries } from "./entry.js";
