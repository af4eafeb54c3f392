import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { findFreePort, findOrStartRedis, type RedisHandle } from "../../../src/redis/find-redis.ts";
import { cli } from "./proc.ts";

const HUB_SECRET = "bench-secret-bench-secret-bench-secret-0123456789";
const AS_OF = "2026-11-01";

export interface Row {
  name: string;
  value: number;
  unit: string;
  /** Extra absolute figures (e.g. p99) shown beside the main one. */
  detail?: string;
  ceiling: number | null;
  ceilingDetail?: string;
  ratio: number | null;
  target: string;
  met: boolean;
  notes?: string;
  data?: Record<string, unknown>;
  error?: string;
  seconds?: number;
}

export interface Register {
  dataDir: string;
  file: string;
  cards: number;
  /** Partners and keys already in this register's database (see lib/hub.ts createKeys). */
  keys?: { partnerIds: string[]; partners: string[]; issuer: string };
}

/** What every benchmark shares: mode, a temp root, the private Redis, the registers built so far. */
export class BenchContext {
  readonly registers = new Map<string, Register>();
  private cleanups: (() => Promise<void> | void)[] = [];
  private prefixCount = 0;
  private sharedItems = new Map<string, { value: Promise<unknown>; stop: () => Promise<void>; idle: boolean }>();

  private constructor(
    readonly quick: boolean,
    readonly root: string,
    readonly redis: RedisHandle,
  ) {}

  static async open(quick: boolean): Promise<BenchContext> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "fpr-hub-bench-"));
    let redis: RedisHandle;
    try {
      // A private redis-server on a free port (nothing listens there, so findOrStartRedis starts one); never 6379.
      const localUrl = `redis://127.0.0.1:${await findFreePort()}`;
      redis = await findOrStartRedis({ redisUrl: process.env.REDIS_URL || null, localUrl, dataDir: root, persist: false });
    } catch (error) {
      fs.rmSync(root, { recursive: true, force: true });
      throw error;
    }
    // Last resort (children are SIGKILLed on exit by proc.ts): never leave the temp root behind.
    process.on("exit", () => fs.rmSync(root, { recursive: true, force: true }));
    return new BenchContext(quick, root, redis);
  }

  /** Progress on stderr with the time since the run started (BENCH_VERBOSE=1). */
  log(message: string): void {
    if (process.env.BENCH_VERBOSE) process.stderr.write(`  [${(performance.now() / 1000).toFixed(1)} s] ${message}\n`);
  }

  /** Registers a cleanup, run in reverse order by close(). */
  defer(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup);
  }

  dir(name: string): string {
    const dir = fs.mkdtempSync(path.join(this.root, `${name}-`));
    return dir;
  }

  /** A BullMQ prefix no other hub of this run uses (they share one Redis). */
  prefix(name: string): string {
    this.prefixCount += 1;
    return `bench${this.prefixCount}-${name}-${process.pid}`;
  }

  /** The environment of every hub child and CLI call. */
  hubEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATA_DIR: dataDir,
      HUB_SECRET,
      DEMO_SEED: "off",
      NODE_ENV: "production",
      REDIS_URL: this.redis.url,
      HOST: "127.0.0.1",
      PORT: "0",
      RATE_LIMIT_CHECKS: "ISSUER=100000000,PARTNER=100000000,ADMIN=100000000,VIEWER=100000000",
      RATE_LIMIT_VERIFICATIONS: "ISSUER=100000000,PARTNER=100000000,ADMIN=100000000,VIEWER=100000000",
      ...extra,
    };
  }

  /** Writes a synthetic register file of `cards` records (seed 1, as of AS_OF). */
  async generate(cards: number): Promise<string> {
    const file = path.join(this.root, `register-${cards}.ndjson`);
    if (!fs.existsSync(file)) await cli(["generate", "--cards", String(cards), "--seed", "1", "--as-of", AS_OF, "--out", file], {});
    return file;
  }

  /** A DATA_DIR holding `cards` synthetic cards, imported with --no-events; built once per size. */
  async register(cards: number): Promise<Register> {
    const known = this.registers.get(String(cards));
    if (known) return known;
    const file = await this.generate(cards);
    const dataDir = this.dir(`register-${cards}`);
    this.log(`importing a ${cards}-card register`);
    await cli(["import", file, "--no-events"], this.hubEnv(dataDir));
    return this.adopt(cards, dataDir, file);
  }

  adopt(cards: number, dataDir: string, file: string): Register {
    const register = { dataDir, file, cards };
    this.registers.set(String(cards), register);
    return register;
  }

  /** The largest register built so far. */
  largestRegister(): Register | null {
    return [...this.registers.values()].sort((a, b) => b.cards - a.cards)[0] ?? null;
  }

  /** A private copy of a register's database (with its keys), for a benchmark that writes to it. */
  copyRegister(register: Register, name: string): Register {
    const dataDir = this.dir(name);
    for (const file of fs.readdirSync(register.dataDir)) {
      if (file.startsWith("fpr-hub.sqlite")) fs.copyFileSync(path.join(register.dataDir, file), path.join(dataDir, file));
    }
    const keys = register.keys && { ...register.keys, partnerIds: [...register.keys.partnerIds], partners: [...register.keys.partners] };
    return { ...register, dataDir, keys };
  }

  /**
   * A process several benchmarks use in turn (a running hub, receivers): created once, reused while
   * `alive`, stopped by releaseShared() (unless `idle`: it uses no CPU between uses) or close().
   */
  async shared<T>(key: string, create: () => Promise<T>, alive: (value: T) => boolean, stop: (value: T) => Promise<void>, idle = false): Promise<T> {
    const known = this.sharedItems.get(key);
    if (known) {
      const value = (await known.value.catch(() => null)) as T | null;
      if (value !== null && alive(value)) return value;
      this.sharedItems.delete(key);
    }
    const value = create();
    this.sharedItems.set(key, { value, stop: async () => stop(await value), idle });
    value.catch(() => this.sharedItems.delete(key));
    return value;
  }

  /** Stops shared processes (except those named), so the next measurement has the CPUs to itself. */
  async releaseShared(except: string[] = [], all = false): Promise<void> {
    for (const [key, item] of [...this.sharedItems]) {
      if (except.includes(key) || (item.idle && !all)) continue;
      this.sharedItems.delete(key);
      await item.stop().catch(() => undefined);
    }
  }

  /** On a Redis the run does not own (REDIS_URL), removes the keys of this run's prefixes. */
  private async dropKeys(): Promise<void> {
    const client = new Redis(this.redis.url, { maxRetriesPerRequest: 1 });
    try {
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", `bench*-${process.pid}:*`, "COUNT", 1000);
        cursor = next;
        if (keys.length) await client.del(...keys);
      } while (cursor !== "0");
    } finally {
      client.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.releaseShared([], true);
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        process.stderr.write(`bench: cleanup failed: ${String(error)}\n`);
      }
    }
    this.cleanups = [];
    if (this.redis.source !== "child") await this.dropKeys().catch((error) => process.stderr.write(`bench: could not remove its Redis keys: ${String(error)}\n`));
    await this.redis.stop().catch(() => undefined);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
