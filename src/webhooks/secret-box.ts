import crypto from "node:crypto";
import type { Digester } from "../hub-secret.ts";

/**
 * Webhook signing secrets have to be recoverable (the hub signs with them), so they are sealed
 * with AES-256-GCM under a key derived from the hub secret rather than stored in the clear.
 */
export class SecretBox {
  readonly #key: Buffer;
  /** Recently opened secrets: every delivery attempt signs, and opening costs more than signing. */
  readonly #opened = new Map<string, string>();

  constructor(digester: Digester) {
    this.#key = digester.deriveKey("webhook-secrets");
  }

  seal(plaintext: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.#key, iv);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
  }

  open(sealed: string): string {
    const known = this.#opened.get(sealed);
    if (known !== undefined) return known;
    const plaintext = this.#open(sealed);
    if (this.#opened.size >= 1000) this.#opened.delete(this.#opened.keys().next().value!);
    this.#opened.set(sealed, plaintext);
    return plaintext;
  }

  #open(sealed: string): string {
    const raw = Buffer.from(sealed, "base64url");
    const decipher = crypto.createDecipheriv("aes-256-gcm", this.#key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  }
}

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString("base64")}`;
}
