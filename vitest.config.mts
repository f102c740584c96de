import path from "node:path";
import { defineConfig } from "vitest/config";

// Unit and integration tests. End-to-end tests have their own config (vitest.e2e.config.mts)
// because they need a production build and a running server.
export default defineConfig({
  resolve: {
    alias: {
      "@": import.meta.dirname,
      // The real package throws outside React Server Components; in tests the modules that carry
      // the marker are called directly, so resolve it to the package's own no-op build.
      "server-only": path.resolve(import.meta.dirname, "node_modules/server-only/empty.js"),
    },
  },
  test: {
    include: ["tests/**/*.test.ts"],
    exclude: ["tests/browser/**", "tests/server/**", "node_modules/**"],
    environment: "node",
    testTimeout: 30_000,
  },
});
