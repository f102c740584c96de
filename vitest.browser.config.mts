import { defineConfig } from "vitest/config";

// Browser tests: start the production build (`npm run build` first) on a free port and drive
// Debian's chromium through playwright-core. One file at a time keeps a 2-core machine responsive.
export default defineConfig({
  resolve: { alias: { "@": import.meta.dirname } },
  test: {
    include: ["tests/browser/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
