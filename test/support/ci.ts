/**
 * Whether the tests run under CI, where nothing may be skipped for want of a service (PostgreSQL,
 * Redis, Chromium, the npm registry) and property tests use one fixed seed.
 *
 * @module
 */

/** Values of `CI` that mean "not CI": unset, empty, `0`, `false`, `no`, `off` (any case). */
const NOT_CI = new Set(["", "0", "false", "no", "off"]);

/**
 * `true` when `CI` is set to anything but an off value: `CI=true` and `CI=1` (what most CI
 * services export) both count, `CI=false`, `CI=0` and an empty `CI` do not.
 *
 * @param env - The environment to read. Default `process.env`.
 */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env["CI"];
  return value !== undefined && !NOT_CI.has(value.trim().toLowerCase());
}
