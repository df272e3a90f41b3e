import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Two cores here: forks keep native drivers (better-sqlite3, pg) isolated per file.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
