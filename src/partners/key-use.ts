import { NO_STORAGE_REPORTER, type StorageReporter } from "../db/storage-errors.ts";
import type { ApiKeyStore } from "./api-keys.store.ts";

/** How often noted uses are written. */
const KEY_USE_FLUSH_MS = 5_000;

/**
 * When each API key was last used (`api_keys.last_used_at`), kept off the request path:
 * authentication only notes a use in memory, and a timer writes the notes in one transaction every
 * KEY_USE_FLUSH_MS (and on close). So reading never needs a write: checks are answered while the
 * disk is full, and a failed write keeps the notes for the next tick (the storage monitor is
 * told). A note is the time of the first use after the stored value went stale, exactly what the
 * old write on the request path stored; a later note never moves the value backwards (another
 * process may have written a newer one). At most one note per key: bounded by the keys table.
 */
export class KeyUseLog {
  /** Key id → ISO time of its first use since the stored value went stale. */
  readonly #pending = new Map<string, string>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly store: ApiKeyStore,
    private readonly storage: StorageReporter = NO_STORAGE_REPORTER,
    flushMs = KEY_USE_FLUSH_MS,
  ) {
    this.#timer = setInterval(() => this.flush(), flushMs);
    this.#timer.unref();
  }

  /** Notes that `keyId` was used at `at`, unless a use waiting to be written is noted already. */
  note(keyId: string, at: string): void {
    if (!this.#pending.has(keyId)) this.#pending.set(keyId, at);
  }

  /** The use of `keyId` not yet written, if any. */
  pendingOf(keyId: string): string | undefined {
    return this.#pending.get(keyId);
  }

  /** Writes every noted use in one transaction; true when nothing is left. Never throws (it runs on a timer). */
  flush(): boolean {
    if (this.#pending.size === 0) return true;
    if (!this.store.isOpen) return false;
    const notes = [...this.#pending];
    try {
      this.store.writeUses(notes);
    } catch (error) {
      this.storage.recordStorageError("key-use", error, { pending: `${notes.length} key uses` });
      return false;
    }
    for (const [id, at] of notes) if (this.#pending.get(id) === at) this.#pending.delete(id);
    this.storage.recordStorageOk("key-use");
    return true;
  }

  close(): void {
    clearInterval(this.#timer);
    if (!this.flush() && this.#pending.size > 0) this.storage.recordStorageLoss("key-use", `${this.#pending.size} key uses (lastUsedAt)`);
  }
}
