/**
 * Go's notions Inngest's loosened operators rely on: truthiness (for `&&`, `||` and `?:` on
 * non-booleans) and zero values (for an ordering against `null`).
 *
 * @module
 */
import { CelError, CelUint } from "../../values.js";

/**
 * Inngest's truthiness (`isTruthy` in `pkg/expressions/unknown.go`), used by `&&` / `||` on
 * non-booleans and by the `?:` condition. Falsy: `null` / `undefined`, `false`, `""`, int `0`,
 * uint `0`, double `0` and `-0`, and error values. Everything else is truthy, including `NaN`,
 * empty lists and maps, bytes (even empty), timestamps and durations.
 */
export function isTruthy(v: unknown): boolean {
  switch (typeof v) {
    case "boolean":
      return v;
    case "string":
      return v !== "";
    case "number":
      return v !== 0; // NaN !== 0
    case "bigint":
      return v !== 0n;
    case "undefined":
      return false;
    case "object":
      if (v === null || v instanceof CelError) return false;
      if (v instanceof CelUint) return v.value !== 0n;
      return true;
    default:
      return true;
  }
}

const UINT_ZERO = new CelUint(0n);

/**
 * The zero value of `v`'s type, which Inngest substitutes for a `null` operand of `<`, `<=`, `>`,
 * `>=`: int → `0n`, uint → `0u`, double → `0`, string → `""`. Any other kind has none →
 * `undefined` (the comparison is then an error).
 */
export function zeroValueLike(v: unknown): unknown | undefined {
  switch (typeof v) {
    case "bigint":
      return 0n;
    case "number":
      return 0;
    case "string":
      return "";
    default:
      return v instanceof CelUint ? UINT_ZERO : undefined;
  }
}
