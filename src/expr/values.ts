/**
 * The CEL value model in JavaScript.
 *
 * | CEL        | JS at run time                                  |
 * |------------|-------------------------------------------------|
 * | null       | `null` (`undefined` from input is read as null) |
 * | bool       | `boolean`                                       |
 * | int        | `bigint` (exact int64; overflow is an error)    |
 * | uint       | {@link CelUint}                                 |
 * | double     | `number` (every JSON number is a double)        |
 * | string     | `string`                                        |
 * | bytes      | `Uint8Array`                                    |
 * | list       | `readonly unknown[]`                            |
 * | map        | `Map` or a plain object (string keys)           |
 * | timestamp  | {@link CelTimestamp} (a `Date` input is read as one) |
 * | duration   | {@link CelDuration}                             |
 * | type       | {@link CelType}                                 |
 * | error      | {@link CelError} (inside the engine only)       |
 *
 * Plain JS data (numbers, strings, arrays, objects) flow through the hot path untouched: only
 * `int` arithmetic, which filters over JSON rarely need, uses `BigInt`.
 *
 * @module
 */

/** Largest int64. */
export const INT64_MAX = 0x7fffffffffffffffn;
/** Smallest int64. */
export const INT64_MIN = -0x8000000000000000n;
/** Largest uint64. */
export const UINT64_MAX = 0xffffffffffffffffn;

/** A CEL `uint`: an unsigned 64-bit integer, kept apart from `int` because CEL keeps them apart. */
export class CelUint {
  constructor(
    /** The value, 0 ≤ value ≤ 2^64-1. */
    readonly value: bigint,
  ) {}

  /** The decimal digits followed by `u`, as CEL prints a uint literal. */
  toString(): string {
    return `${this.value}u`;
  }
}

/** Seconds of 0001-01-01T00:00:00Z, the earliest CEL timestamp. */
export const MIN_TIMESTAMP_SECONDS = -62135596800;
/** Seconds of 9999-12-31T23:59:59Z, the latest CEL timestamp (plus 999,999,999 ns). */
export const MAX_TIMESTAMP_SECONDS = 253402300799;
/** Duration bounds of the protobuf `Duration` type: ±10,000 years in seconds. */
export const MAX_DURATION_SECONDS = 315576000000;

/**
 * A CEL `timestamp`: seconds since the Unix epoch plus nanoseconds, in the range of
 * `google.protobuf.Timestamp` (years 0001–9999). Both parts are JS numbers (exact in that range).
 */
export class CelTimestamp {
  constructor(
    /** Whole seconds since 1970-01-01T00:00:00Z (may be negative). */
    readonly seconds: number,
    /** Nanoseconds, 0 ≤ nanos < 1e9. */
    readonly nanos: number,
  ) {}

  /** Builds a timestamp from epoch milliseconds (a JS `Date` value). */
  static fromMillis(ms: number): CelTimestamp {
    const seconds = Math.floor(ms / 1000);
    return new CelTimestamp(seconds, Math.round((ms - seconds * 1000) * 1e6));
  }

  /** Epoch milliseconds (sub-millisecond nanos are dropped). */
  toMillis(): number {
    return this.seconds * 1000 + Math.floor(this.nanos / 1e6);
  }

  /** A JS `Date` (sub-millisecond nanos are dropped). */
  toDate(): Date {
    return new Date(this.toMillis());
  }
}

/**
 * A CEL `duration`: seconds and nanoseconds with the same sign, in the range of
 * `google.protobuf.Duration` (±315,576,000,000 s).
 */
export class CelDuration {
  constructor(
    /** Whole seconds, truncated toward zero. */
    readonly seconds: number,
    /** Nanoseconds with the sign of `seconds`, |nanos| < 1e9. */
    readonly nanos: number,
  ) {}
}

/** A CEL type value, the result of `type(x)` and the value of identifiers such as `int`. */
export class CelType {
  constructor(
    /** The type's name as CEL prints it: `int`, `list`, `google.protobuf.Timestamp`, … */
    readonly name: string,
  ) {}

  toString(): string {
    return this.name;
  }
}

/**
 * A value of CEL's `optional_type(T)` (the optionals extension): `optional.of(v)` holds `v`,
 * `optional.none()` ({@link CelOptional.NONE}) holds nothing.
 */
export class CelOptional {
  /** The empty optional, `optional.none()`. */
  static readonly NONE: CelOptional = new CelOptional(undefined, false);

  private constructor(
    /** The value held; `undefined` when {@link hasValue} is false. */
    readonly value: unknown,
    /** Whether a value is held. */
    readonly hasValue: boolean,
  ) {}

  /** `optional.of(v)`. */
  static of(v: unknown): CelOptional {
    return new CelOptional(v, true);
  }

  toString(): string {
    return this.hasValue ? `optional.of(${String(this.value)})` : "optional.none()";
  }
}

/** Built-in type values, one instance each so that they compare by identity. */
export const TYPES = {
  null: new CelType("null_type"),
  bool: new CelType("bool"),
  int: new CelType("int"),
  uint: new CelType("uint"),
  double: new CelType("double"),
  string: new CelType("string"),
  bytes: new CelType("bytes"),
  list: new CelType("list"),
  map: new CelType("map"),
  type: new CelType("type"),
  timestamp: new CelType("google.protobuf.Timestamp"),
  duration: new CelType("google.protobuf.Duration"),
  optional: new CelType("optional_type"),
} as const;

/**
 * A runtime error as a value. The engine passes these along like any other value so that `&&`,
 * `||` and comprehensions can absorb them as CEL requires; `Program.evaluate` turns the final one
 * into a thrown `EvalError`.
 */
export class CelError {
  constructor(
    /** Machine-readable category (see `EvalErrorCode`). */
    readonly code: string,
    /** Human-readable message, worded as cel-go where a cel-go text exists. */
    readonly message: string,
    /** Id of the AST node whose evaluation failed; 0 when unknown. */
    readonly nodeId = 0,
  ) {}
}

/** Whether a runtime value is an error value. */
export function isError(v: unknown): v is CelError {
  return v instanceof CelError;
}
