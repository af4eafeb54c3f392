import type { Redis } from "ioredis";

/**
 * One call for any number of stem sets. KEYS: the sets. ARGV: limit, window (ms), then for each
 * set: how many numbers were already answered, how many are asked now, those numbers, these
 * numbers. Answered numbers are always added; the asked ones only if no set then passes the limit
 * (all or nothing). A set's window starts with its first number. Returns {1, count, pttl, ...}
 * per set, or {0, index of the first set over the limit, its pttl}.
 */
const ADMIT_SCRIPT = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local pos = 3
local asked = {}
for i, key in ipairs(KEYS) do
  local answered = tonumber(ARGV[pos])
  local count = tonumber(ARGV[pos + 1])
  pos = pos + 2
  for j = 0, answered - 1 do redis.call('SADD', key, ARGV[pos + j]) end
  if answered > 0 and redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
  pos = pos + answered
  asked[i] = {pos, count}
  pos = pos + count
end
for i, key in ipairs(KEYS) do
  local fresh = 0
  for j = 0, asked[i][2] - 1 do
    if redis.call('SISMEMBER', key, ARGV[asked[i][1] + j]) == 0 then fresh = fresh + 1 end
  end
  if fresh > 0 and redis.call('SCARD', key) + fresh > limit then
    local ttl = redis.call('PTTL', key)
    return {0, i, ttl > 0 and ttl or window}
  end
end
local out = {1}
for i, key in ipairs(KEYS) do
  for j = 0, asked[i][2] - 1 do redis.call('SADD', key, ARGV[asked[i][1] + j]) end
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
  local ttl = redis.call('PTTL', key)
  out[#out + 1] = redis.call('SCARD', key)
  out[#out + 1] = ttl > 0 and ttl or window
end
return out
`;

/** One stem set's part of a call: numbers already answered (always counted) and numbers asked now. */
export interface StemBatch {
  key: string;
  answered: readonly string[];
  asked: readonly string[];
}

/** {admitted, counts and pttls per set} or {refused, index of the set, pttl}. */
export type AdmitAnswer = { admitted: true; sets: { count: number; pttl: number }[] } | { admitted: false; index: number; pttl: number };

const RECORD_CHUNK = 500;

type Scripted = { fprEnumerationAdmit(numKeys: number, ...args: (string | number)[]): Promise<number[]> };
type ScriptedPipeline = { fprEnumerationAdmit(numKeys: number, ...args: (string | number)[]): unknown };

function argsOf(batches: readonly StemBatch[], limit: number, windowMs: number): (string | number)[] {
  const args: (string | number)[] = batches.map((b) => b.key);
  args.push(limit, windowMs);
  for (const b of batches) args.push(b.answered.length, b.asked.length, ...b.answered, ...b.asked);
  return args;
}

function answerOf(raw: number[]): AdmitAnswer {
  if (raw[0] === 0) return { admitted: false, index: raw[1] - 1, pttl: raw[2] };
  const sets: { count: number; pttl: number }[] = [];
  for (let i = 1; i < raw.length; i += 2) sets.push({ count: raw[i], pttl: raw[i + 1] });
  return { admitted: true, sets };
}

/** The script as a command of one connection (EVALSHA, loaded on first use). */
export class EnumerationScript {
  constructor(
    private readonly redis: Redis,
    private readonly limit: number,
    private readonly windowMs: number,
  ) {
    if (!("fprEnumerationAdmit" in redis)) redis.defineCommand("fprEnumerationAdmit", { lua: ADMIT_SCRIPT });
  }

  /** Counts every batch in one round trip: asked numbers only within the limit. */
  async admit(batches: readonly StemBatch[]): Promise<AdmitAnswer> {
    const raw = await (this.redis as unknown as Scripted).fprEnumerationAdmit(batches.length, ...argsOf(batches, this.limit, this.windowMs));
    return answerOf(raw);
  }

  /** Records answered numbers of many sets, up to 500 sets per call, pipelined; one answer per set. */
  async record(batches: readonly StemBatch[]): Promise<({ count: number; pttl: number } | null)[]> {
    const pipeline = this.redis.pipeline();
    const chunks: StemBatch[][] = [];
    for (let i = 0; i < batches.length; i += RECORD_CHUNK) chunks.push(batches.slice(i, i + RECORD_CHUNK));
    for (const chunk of chunks) (pipeline as unknown as ScriptedPipeline).fprEnumerationAdmit(chunk.length, ...argsOf(chunk, Number.MAX_SAFE_INTEGER, this.windowMs));
    const results = (await pipeline.exec()) ?? [];
    return chunks.flatMap((chunk, i) => {
      const [error, raw] = results[i] ?? [new Error("no answer"), null];
      const answer = error || !Array.isArray(raw) ? null : answerOf(raw as number[]);
      return chunk.map((_, j) => (answer?.admitted ? answer.sets[j] : null));
    });
  }
}
