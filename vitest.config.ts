import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Two cores here: forks keep native drivers (better-sqlite3, pg) isolated per file.
    pool: "forks",
    // A liveness bound, not a speed check: the heaviest property tests take ~5 s alone and several
    // times that while the machine is busy (they timed out at 30 s under a load average of 16).
    testTimeout: 120_000,
    // One fast-check seed under CI (see the file for why); random locally.
    setupFiles: ["test/setup/fast-check.ts"],
    hookTimeout: 120_000,
  },
});
