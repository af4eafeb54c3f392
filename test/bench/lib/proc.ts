import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const BIN = path.join(ROOT, "bin/fpr-hub.js");

/** Every child this run started; killed on cleanup, on exit and on signals. */
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

export interface Child {
  process: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the first line matching `pattern` (rejects when the child exits first or on timeout). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function startChild(command: string, args: string[], env: Record<string, string>, options: { nodeArgs?: string[] } = {}): Child {
  const argv = command === "node" ? [...(options.nodeArgs ?? []), ...args] : args;
  const proc = spawn(command === "node" ? process.execPath : command, argv, { cwd: ROOT, env: { ...baseEnv(), ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(proc);
  let out = "";
  const listeners: (() => void)[] = [];
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString("utf8")).slice(-200_000);
    for (const listener of listeners) listener();
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  proc.on("error", () => undefined);
  const exited = new Promise<number | null>((resolve) =>
    proc.once("exit", (code) => {
      children.delete(proc);
      for (const listener of listeners) listener();
      resolve(code);
    }),
  );
  const done = () => proc.exitCode !== null || proc.signalCode !== null;
  return {
    process: proc,
    pid: proc.pid!,
    output: () => out,
    exited,
    waitForLine(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${out.slice(-2000)}`)), timeoutMs);
        const check = () => {
          const match = out.match(pattern);
          if (match) finish(null, match);
          else if (done()) finish(new Error(`process exited (${proc.exitCode ?? proc.signalCode}) before ${pattern}; output:\n${out.slice(-2000)}`));
        };
        const finish = (error: Error | null, match?: RegExpMatchArray) => {
          clearTimeout(timer);
          const i = listeners.indexOf(check);
          if (i >= 0) listeners.splice(i, 1);
          if (error) reject(error);
          else resolve(match!);
        };
        listeners.push(check);
        check();
      });
    },
    async stop() {
      if (done()) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The parent environment minus anything that would point a child at another hub or Redis. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(REDIS_URL|DATA_DIR|DATABASE_PATH|PORT|QUEUE_PREFIX|NODE_OPTIONS)$/.test(key)) env[key] = value;
  }
  return env;
}

/** Extra node flags for the hub's own processes (api, worker, start, the timed import): BENCH_HUB_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
export function hubNodeArgs(): string[] {
  return (process.env.BENCH_HUB_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
}

/** Runs `node bin/fpr-hub.js ...args` to completion; returns stdout+stderr; throws on a non-zero exit. */
export async function cli(args: string[], env: Record<string, string>, timeoutMs = 600_000): Promise<string> {
  const child = startChild("node", [BIN, ...args], env);
  const timer = setTimeout(() => child.process.kill("SIGKILL"), timeoutMs);
  const code = await child.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`fpr-hub ${args.join(" ")} exited ${code}: ${child.output().slice(-2000)}`);
  return child.output();
}

export async function stopAllChildren(): Promise<void> {
  await Promise.all(
    [...children].map(async (proc) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once("exit", resolve));
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** Peak VmRSS of a process in bytes, sampled every `everyMs` until stop(). */
export function rssSampler(pid: number, everyMs = 100): { stop(): number; peak(): number; samples(): number } {
  let peak = 0;
  let count = 0;
  const sample = async () => {
    try {
      const { readFile } = await import("node:fs/promises");
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb * 1024);
      count += 1;
    } catch {
      /* the process is gone */
    }
  };
  void sample();
  const timer = setInterval(sample, everyMs);
  return { stop: () => (clearInterval(timer), peak), peak: () => peak, samples: () => count };
}
