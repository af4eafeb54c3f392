/**
 * BullMQ 5 has no logger option: a few of its warnings go to `console.warn`, once per connection
 * (a hub has a dozen), as plain text beside the hub's JSON lines. While a runtime is open, those
 * known messages go through the hub's logger instead, each distinct message once, at level warn,
 * with `source: "bullmq"`. Anything else written to console.warn passes through untouched, and the
 * original is put back when the last runtime closes. (What the eviction warning is about is also
 * checked and reported by src/redis/redis-requirements.ts, with the fix.)
 */

type Logger = (entry: Record<string, unknown>) => void;

/** BullMQ's console.warn messages (bullmq/dist/esm/classes/redis-connection.js, job-scheduler.js). */
const BULLMQ_WARNINGS = [/^IMPORTANT! Eviction policy is /, /^It is highly recommended to use a minimum Redis version/, /^Using option immediately with every /];

interface Routing {
  original: typeof console.warn;
  loggers: Logger[];
  seen: Set<string>;
}

let routing: Routing | null = null;
/** console.warn as it was before the first routing: still called if someone kept a reference to ours. */
let before: typeof console.warn = console.warn;

function routedWarn(this: void, ...args: unknown[]): void {
  const active = routing;
  if (!active) return before.apply(console, args);
  const text = typeof args[0] === "string" && args.length === 1 ? args[0].replace(/\s+/g, " ").trim() : null;
  if (text === null || !BULLMQ_WARNINGS.some((pattern) => pattern.test(text))) {
    active.original.apply(console, args);
    return;
  }
  if (active.seen.has(text)) return;
  active.seen.add(text);
  active.loggers.at(-1)!({ level: "warn", msg: `bullmq: ${text}`, source: "bullmq" });
}

/** Routes BullMQ's warnings to `log` until the returned function is called. */
export function routeBullmqWarnings(log: Logger): () => void {
  if (!routing) {
    before = console.warn;
    routing = { original: before, loggers: [], seen: new Set() };
    console.warn = routedWarn;
  }
  routing.loggers.push(log);
  let released = false;
  return () => {
    if (released || !routing) return;
    released = true;
    routing.loggers.splice(routing.loggers.indexOf(log), 1);
    if (routing.loggers.length > 0) return;
    if (console.warn === routedWarn) console.warn = routing.original;
    routing = null;
  };
}
