/**
 * Cases of the extension suites of cel-spec this engine fails, with the reason. The suite fails
 * when a listed case starts passing, so this list can only shrink.
 */
export const EXT_EXPECTED_FAILURES: Readonly<Record<string, string>> = {};
