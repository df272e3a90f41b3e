/**
 * Conformance cases this engine fails on purpose, with the reason and the failure they must show
 * (a pattern over the error the case throws). The suite fails when a listed case starts passing
 * or fails for another reason, so this list can only shrink.
 */
export const EXPECTED_FAILURES: Readonly<Record<string, { readonly reason: string; readonly failure: RegExp }>> = {};

/** Why a conformance case cannot run on this engine; every skip names one of these. */
export const SKIP_REASONS = {
  protobuf: "protobuf message types (TestAllTypes, wrappers, Any, Struct, enums): not modelled by this engine",
  optional: "optional types (optional.of, optional.none, optional_type): not shipped",
  functions: "declares its own functions: CompileOptions declares variables only",
} as const;

/**
 * Skips per reason across the suites the runner covers: a change that adds or removes a skip
 * must change this too.
 */
export const EXPECTED_SKIPS: Readonly<Record<string, number>> = {
  [SKIP_REASONS.protobuf]: 122,
  [SKIP_REASONS.optional]: 6,
  [SKIP_REASONS.functions]: 5,
};
