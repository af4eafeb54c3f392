/**
 * Holder figures scan every holder, so they are cached briefly: an entry is reused while this
 * process has made no register change and it is younger than `maxAgeMs` (changes made by other
 * processes show within that age).
 */
export class FigureCache {
  readonly #entries = new Map<string, { at: number; version: number; value: unknown }>();

  constructor(
    private readonly version: () => number,
    private readonly maxAgeMs = 30_000,
    private readonly clock: () => number = () => Date.now(),
  ) {}

  get<T>(key: string, compute: () => T): T {
    const entry = this.#entries.get(key);
    const now = this.clock();
    if (entry && entry.version === this.version() && now - entry.at < this.maxAgeMs) return entry.value as T;
    const value = compute();
    this.#entries.set(key, { at: now, version: this.version(), value });
    return value;
  }
}
