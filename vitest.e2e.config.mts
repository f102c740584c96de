import { defineConfig } from "vitest/config";

// End-to-end tests: start the production build (`npm run build` first) on a free port, then drive it
// over HTTP (tests/server: the OpenAI client, metrics, cancellation) and through Debian's chromium
// (tests/browser: playwright-core). One file at a time keeps a 2-core machine responsive.
export default defineConfig({
  resolve: { alias: { "@": import.meta.dirname } },
  test: {
    include: ["tests/server/**/*.test.ts", "tests/browser/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
