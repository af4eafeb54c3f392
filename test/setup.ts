import "reflect-metadata";
import { afterAll } from "vitest";
import { removeTempDirs } from "./helpers/temp-dir.ts";

// Registered before the file's own hooks, so it runs after them (vitest runs after-hooks as a stack).
afterAll(() => removeTempDirs());
