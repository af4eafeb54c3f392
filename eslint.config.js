// Lint for the hub's TypeScript (typescript-eslint), run by `npm test` (npm run lint). Beside the
// recommended rules it holds two layout rules the import check cannot see: card-numbers/ reads no
// clock, and SQL is written only in store files (*.store.ts, *-queries.ts) and db/.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

const STORE_FILES = ["src/db/**", "src/**/*.store.ts", "src/**/*-queries.ts"];

const SQL_ONLY_IN_STORES = [
  { selector: "CallExpression[callee.property.name='prepare']", message: "SQL lives in store files (*.store.ts, *-queries.ts) and db/." },
  { selector: "MemberExpression[property.name='$client']", message: "The database client is touched only by store files (*.store.ts, *-queries.ts) and db/." },
];
const NO_CLOCK = [
  { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: "card-numbers/ reads no clock: take `today` as a parameter." },
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: "card-numbers/ reads no clock: take `today` as a parameter." },
];

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "src/dashboard/assets/**", "drizzle/**", "schema/**", "examples/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-console": "off",
      // TypeScript checks names; the core rule does not know its types (typescript-eslint's advice).
      "no-undef": "off",
    },
  },
  {
    // A promise nobody awaits loses its error and its ordering: with the store going async
    // (PostgreSQL), a missed `await` must fail the build, not a partner's request.
    files: ["src/**/*.ts", "jobs/**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
  {
    files: ["src/**/*.ts", "jobs/**/*.ts"],
    ignores: STORE_FILES,
    rules: { "no-restricted-syntax": ["error", ...SQL_ONLY_IN_STORES] },
  },
  {
    files: ["src/card-numbers/**/*.ts"],
    rules: { "no-restricted-syntax": ["error", ...SQL_ONLY_IN_STORES, ...NO_CLOCK] },
  },
  {
    // Tests read answers as loose JSON.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["**/*.mjs", "**/*.js", "**/*.cjs"],
    languageOptions: { globals: { ...globals.node } },
  },
);
