/**
 * The standard library's accessors of timestamps (in UTC or a named time zone) and durations:
 * `getFullYear`, `getMonth`, …, `getMilliseconds`.
 *
 * @module
 */
import { fn, member, T, type FunctionDecl } from "../decls.js";
import { asTimestamp } from "../runtime/core.js";
import * as time from "../runtime/time.js";
import type { CelDuration, CelError, CelTimestamp } from "../values.js";

const { int: i, string: s, timestamp: ts, duration: du } = T;

type TimestampAccessor = (t: CelTimestamp, zone?: string) => bigint | CelError;

/** An accessor with its overload ids: on a timestamp, on a timestamp in a zone, on a duration. */
function accessor(
  name: string,
  onTimestamp: TimestampAccessor,
  ids: readonly [plain: string, withZone: string],
  onDuration?: readonly [id: string, f: (d: CelDuration) => bigint],
): FunctionDecl {
  const impl = (t: CelTimestamp | Date, zone?: string): unknown => (zone === undefined ? onTimestamp(asTimestamp(t)) : onTimestamp(asTimestamp(t), zone));
  return fn(
    name,
    member(ids[0], [ts], i, impl),
    member(ids[1], [ts, s], i, impl),
    ...(onDuration === undefined ? [] : [member(onDuration[0], [du], i, onDuration[1])]),
  );
}

/** Time accessors. */
export const TIME: readonly FunctionDecl[] = [
  accessor("getFullYear", time.getFullYear, ["timestamp_to_year", "timestamp_to_year_with_tz"]),
  accessor("getMonth", time.getMonth, ["timestamp_to_month", "timestamp_to_month_with_tz"]),
  accessor("getDayOfYear", time.getDayOfYear, ["timestamp_to_day_of_year", "timestamp_to_day_of_year_with_tz"]),
  accessor("getDayOfMonth", time.getDayOfMonth, ["timestamp_to_day_of_month", "timestamp_to_day_of_month_with_tz"]),
  accessor("getDate", time.getDate, ["timestamp_to_day_of_month_1_based", "timestamp_to_day_of_month_1_based_with_tz"]),
  accessor("getDayOfWeek", time.getDayOfWeek, ["timestamp_to_day_of_week", "timestamp_to_day_of_week_with_tz"]),
  accessor("getHours", time.getHours, ["timestamp_to_hours", "timestamp_to_hours_with_tz"], ["duration_to_hours", time.durationGetHours]),
  accessor("getMinutes", time.getMinutes, ["timestamp_to_minutes", "timestamp_to_minutes_with_tz"], [
    "duration_to_minutes",
    time.durationGetMinutes,
  ]),
  accessor("getSeconds", time.getSeconds, ["timestamp_to_seconds", "timestamp_to_seconds_tz"], ["duration_to_seconds", time.durationGetSeconds]),
  accessor("getMilliseconds", time.getMilliseconds, ["timestamp_to_milliseconds", "timestamp_to_milliseconds_with_tz"], [
    "duration_to_milliseconds",
    time.durationGetMilliseconds,
  ]),
];
