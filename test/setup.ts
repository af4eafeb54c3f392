import "reflect-metadata";
import { afterAll } from "vitest";
import { dropMadeDatabases } from "./helpers/postgres.ts";
import { removePrefixedKeys } from "./helpers/redis.ts";
import { removeTempDirs } from "./helpers/temp-dir.ts";

// Registered before the file's own hooks, so it runs after them (vitest runs after-hooks as a stack):
// the file's hubs are closed by then, and what they left in the folders, in Redis and in PostgreSQL goes.
afterAll(async () => {
  removeTempDirs();
  await removePrefixedKeys();
  await dropMadeDatabases();
});
