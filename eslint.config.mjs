// Flat ESLint config, run directly by `npm run lint` (not `next lint`).
import nextPlugin from "@next/eslint-plugin-next";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

/** Layering from DESIGN.md, enforced by imports: app -> db/engine; db never imports app; engine imports neither. */
const layer = (files, forbidden) => ({
  files,
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: forbidden.map((dir) => ({
          group: [`@/${dir}`, `@/${dir}/*`, `../${dir}`, `../${dir}/*`, `../../${dir}/*`],
          message: `this layer must not import ${dir}/ (see DESIGN.md, conventions 1)`,
        })),
      },
    ],
  },
});

export default tseslint.config(
  {
    ignores: [".next/**", "node_modules/**", "data/**", "test-results/**", "db/migrations/**", "tools/.cache/**", "next-env.d.ts"],
  },
  ...tseslint.configs.recommended,
  nextPlugin.flatConfig.coreWebVitals,
  reactHooks.configs.flat["recommended-latest"],
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // next.config.js is loaded by Next as CommonJS.
    files: ["**/*.js", "**/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  layer(["db/**"], ["app"]),
  layer(["engine/**"], ["app", "db"]),
);
