/**
 * A first-come, first-served lock over one connection. SQLite's one connection may hold one
 * transaction at a time: an async transaction keeps it across awaits, and everything else that
 * would run on the connection waits here until it ends. A savepoint's siblings wait on their
 * transaction's own lock the same way.
 */
export class ConnectionLock {
  #held = false;
  readonly #waiting: { grant: () => void; timer: NodeJS.Timeout | null }[] = [];

  /** Nobody holds it, so nobody waits for it either (release hands it straight to the next). */
  get isFree(): boolean {
    return !this.#held;
  }

  /** Resolves true once held, or false when `timeoutMs` passed first (then it is not held). */
  acquire(timeoutMs = Infinity): Promise<boolean> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const waiter = { grant: () => resolve(true), timer: null as NodeJS.Timeout | null };
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = setTimeout(() => {
          this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
          resolve(false);
        }, timeoutMs);
      }
      this.#waiting.push(waiter);
    });
  }

  /** Hands the lock to the longest waiter, or frees it. */
  release(): void {
    const next = this.#waiting.shift();
    if (!next) {
      this.#held = false;
      return;
    }
    if (next.timer) clearTimeout(next.timer);
    next.grant();
  }
}
