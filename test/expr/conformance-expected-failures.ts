/**
 * Conformance cases this engine fails on purpose, with the reason. The suite fails when a listed
 * case starts passing, so this list can only shrink.
 */
export const EXPECTED_FAILURES: Readonly<Record<string, string>> = {};
