import path from "node:path";
import { defineConfig } from "vitest/config";

// Unit and integration tests. Browser tests have their own config (vitest.browser.config.mts)
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
    exclude: ["tests/browser/**", "node_modules/**"],
    environment: "node",
    testTimeout: 30_000,
  },
});
