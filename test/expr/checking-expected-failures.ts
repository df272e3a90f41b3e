/**
 * cel-go checker cases this checker differs on, keyed `<suite>#<index>: <expr>`, with the reason.
 * The suite fails when a listed case starts passing.
 */
const OPTIONAL_INDEX =
  "cel-go's test environment registers the optional-types library, whose overloads " +
  "(optional_list_index_int, optional_map_index_value) join `_[_]` on dyn; we do not ship optional types";
const CROSS_TYPE =
  "generated with cel-go's checker default that filters cross-type numeric comparisons; we enable " +
  "them (as cel-go's cel.NewEnv and the cel-spec conformance suite do), so `1 < 1.0` type-checks";
const EXISTS_ONE =
  "the expected checker text comes from a parser without the `existsOne` macro alias, while the " +
  "same case's expected AST (which we match) expands it";

export const CHECKING_EXPECTED_FAILURES: Readonly<Record<string, string>> = {
  'checking#90: args.user["myextension"].customAttributes.filter(x, x.name == "hobbies")': OPTIONAL_INDEX,
  "checking#91: a.b + 1 == a[0]": OPTIONAL_INDEX,
  "checking#106: 1 <= 1.0 && 1u <= 1.0 && 1.0 <= 1 && 1.0 <= 1u && 1 <= 1u && 1u <= 1": CROSS_TYPE,
  "checking#107: 1 <= 1.0 && 1u <= 1.0 && 1.0 <= 1 && 1.0 <= 1u && 1 <= 1u && 1u <= 1": CROSS_TYPE,
  "checking#108: 1 < 1.0 && 1u < 1.0 && 1.0 < 1 && 1.0 < 1u && 1 < 1u && 1u < 1": CROSS_TYPE,
  "checking#109: 1 > 1.0 && 1u > 1.0 && 1.0 > 1 && 1.0 > 1u && 1 > 1u && 1u > 1": CROSS_TYPE,
  "checking#110: 1 >= 1.0 && 1u >= 1.0 && 1.0 >= 1 && 1.0 >= 1u && 1 >= 1u && 1u >= 1": CROSS_TYPE,
  "checking#111: 1 >= 1.0 && 1u >= 1.0 && 1.0 >= 1 && 1.0 >= 1u && 1 >= 1u && 1u >= 1": CROSS_TYPE,
  "parsing#63: m.existsOne(v, f)": EXISTS_ONE,
  "parsing#190: m.existsOne(v, f)": EXISTS_ONE,
};
