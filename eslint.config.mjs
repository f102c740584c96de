// Flat ESLint config, run directly by `npm run lint` (not `next lint`).
import nextPlugin from "@next/eslint-plugin-next";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

/** Layering from DESIGN.md, enforced by imports: app -> db/engine; db never imports app; engine imports neither. */
const layerPatterns = (forbidden) =>
  forbidden.map((dir) => ({
    group: [`@/${dir}`, `@/${dir}/*`, `../${dir}`, `../${dir}/*`, `../../${dir}/*`],
    message: `this layer must not import ${dir}/ (see DESIGN.md, conventions 1)`,
  }));

/** engine/index.ts is the engine's one public face: outside engine/, nothing reaches behind it. */
const engineFace = {
  group: ["@/engine/*", "../engine/*", "../../engine/*", "../../../engine/*", "./engine/*", "**/engine/*"],
  message: 'import the engine through its public face "@/engine" (engine/index.ts), not a module behind it',
};

const restrict = (files, patterns) => ({
  files,
  rules: { "no-restricted-imports": ["error", { patterns }] },
});

export default tseslint.config(
  {
    ignores: [".next/**", "node_modules/**", "data/**", "test-results/**", "db/migrations/**", "tools/.cache/**", ".tmp/**", "next-env.d.ts"],
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
  restrict(["app/**", "bench/**", "tools/**", "instrumentation.ts"], [engineFace]),
  restrict(["db/**"], [...layerPatterns(["app"]), engineFace]),
  restrict(["engine/**"], layerPatterns(["app", "db"])),
);
