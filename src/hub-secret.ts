import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { HubConfig } from "./config.ts";
import { ensurePrivateDir, makePrivate, writePrivateFile } from "./private-files.ts";

const SECRET_FILE = "hub-secret";

/**
 * The key for name, issue and audit digests. `HUB_SECRET` when set (required in production);
 * in development it is generated once into DATA_DIR and reused, so digests stay comparable
 * across restarts.
 */
export function resolveHubSecret(config: HubConfig): string {
  if (config.hubSecret) return config.hubSecret;
  const file = path.join(config.dataDir, SECRET_FILE);
  ensurePrivateDir(config.dataDir);
  if (fs.existsSync(file)) {
    makePrivate(file);
    return fs.readFileSync(file, "utf8").trim();
  }
  const secret = crypto.randomBytes(32).toString("base64url");
  writePrivateFile(file, `${secret}\n`, "wx");
  return secret;
}

/** Keyed digests: HMAC-SHA256 under the hub secret, with a purpose label so digests never mix. */
export class Digester {
  readonly #secret: string;

  constructor(secret: string) {
    this.#secret = secret;
  }

  /** A 32-byte key for one purpose (e.g. sealing webhook secrets), derived from the hub secret. */
  deriveKey(purpose: string): Buffer {
    return crypto.createHmac("sha256", this.#secret).update(`key\u0000${purpose}`).digest();
  }

  digest(purpose: string, value: string): string {
    return crypto.createHmac("sha256", this.#secret).update(`${purpose}\u0000${value}`).digest("base64url");
  }
}
