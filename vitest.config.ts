import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 has no exports map: Vite would pick its .mjs build for our sources while
    // type-graphql and Apollo, loaded by Node, get the CommonJS one. One copy, as at run time.
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // The build first: child-process tests run dist/ (test/build-setup.ts).
    globalSetup: ["test/build-setup.ts", "test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
