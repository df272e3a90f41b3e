/** `isCI`: which values of `CI` count, and that every test reads CI through it. */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isCI } from "./ci.js";

const TEST_ROOT = fileURLToPath(new URL("..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

describe("isCI", () => {
  it.each(["true", "1", "TRUE", "yes", "woodpecker"])("CI=%s counts as CI", (value) => {
    expect(isCI({ CI: value })).toBe(true);
  });

  it.each(["", "0", "false", "False", "no", "off", " "])("CI=%j does not", (value) => {
    expect(isCI({ CI: value })).toBe(false);
  });

  it("an unset CI does not", () => {
    expect(isCI({})).toBe(false);
  });

  it("is the only place the tests read CI from the environment", () => {
    const readers = sources(TEST_ROOT)
      .filter((path) => !path.endsWith(join("support", "ci.ts")))
      .filter((path) => /env(\.CI\b|\[\s*["']CI["']\s*\])/.test(readFileSync(path, "utf8")))
      .map((path) => relative(TEST_ROOT, path));
    expect(readers).toEqual([]);
  });
});
