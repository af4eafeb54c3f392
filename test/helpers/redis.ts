import { randomBytes } from "node:crypto";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** The Redis every test shares (`REDIS_URL`, or a private redis-server started by test/global-setup.ts). */
    redisUrl: string;
  }
}

/** URL of the test Redis; give each test its own BullMQ prefix with `uniquePrefix()`. */
export function redisUrl(): string {
  return inject("redisUrl");
}

/** A BullMQ queue prefix no other test uses, so tests sharing one Redis never see each other's jobs. */
export function uniquePrefix(): string {
  return `t${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
}
