/**
 * fast-check's seed for the whole suite (a vitest setup file, run in every test process).
 *
 * Under CI (`CI=true` or `CI=1`: see test/support/ci.ts) the property tests run from one fixed
 * seed, so that CI judges the code and not the luck of a draw: a counterexample that a random
 * seed happens to reach must not block a landing that did not introduce it. Exploration with
 * fresh seeds is `npm run fuzz`, which runs the property suites repeatedly and prints each failing
 * seed; `FC_SEED=<n>` replays one (here or under CI). Locally, without either variable, every
 * run draws a new seed, as fast-check does.
 */
import fc from "fast-check";
import { isCI } from "../support/ci.js";

/** The seed CI uses when `FC_SEED` is not set. Changing it is a deliberate act, like editing a golden table. */
const CI_SEED = 20261129;

const fromEnv = process.env["FC_SEED"];
const seed = fromEnv !== undefined && fromEnv !== "" ? Number(fromEnv) : isCI() ? CI_SEED : undefined;
if (seed !== undefined) {
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(fromEnv)}`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
}
