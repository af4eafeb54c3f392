import fs from "node:fs";
import readline from "node:readline";
import autocannon from "autocannon";

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  headers: Record<string, string>;
  /** Request bodies, cycled (each connection walks the list). */
  bodies: string[];
}

/** autocannon in this process: POST, no pipelining, bodies cycled, for a fixed duration. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    duration: options.seconds,
    method: "POST",
    headers: options.headers,
    requests: options.bodies.map((body) => ({ method: "POST", body })),
    timeout: 30,
  });
  const seconds = result.duration;
  return {
    rps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds,
  };
}

/** A short run whose figures are thrown away, so JIT and caches are warm. */
export async function warmUp(options: Omit<LoadOptions, "seconds">, seconds: number): Promise<void> {
  await runLoad({ ...options, seconds });
}

/** About `count` card numbers spread evenly over the whole register file (distinct, in file order). */
export async function sampleNumbers(file: string, cards: number, count: number): Promise<string[]> {
  const step = Math.max(1, Math.floor(cards / count));
  const numbers = new Set<string>();
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let i = 0;
  for await (const line of lines) {
    if (i++ % step === 0 && line) numbers.add((JSON.parse(line) as { number: string }).number);
    if (numbers.size >= count) break;
  }
  lines.close();
  return [...numbers];
}

/** Shuffles deterministically (seeded LCG), so consecutive requests hit unrelated keys. */
export function shuffled<T>(items: T[], seed = 1): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export const round = (value: number, digits = 0): number => Math.round(value * 10 ** digits) / 10 ** digits;
