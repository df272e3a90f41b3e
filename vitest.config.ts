import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Two cores here: forks keep native drivers (better-sqlite3, pg) isolated per file.
    pool: "forks",
    testTimeout: 30_000,
    // One fast-check seed under CI (see the file for why); random locally.
    setupFiles: ["test/setup/fast-check.ts"],
    hookTimeout: 60_000,
  },
});
