/**
 * Webhook receivers for the fan-out and propagation benchmarks, in their own process so the hub's
 * worker and the ceiling's sender each compete with them for CPU alike. RECEIVERS loopback servers
 * answer 204 at once (after reading the body) and count distinct webhook-ids; a control server
 * reports what arrived. Times are epoch milliseconds with sub-millisecond precision.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

const count = Number(process.env.RECEIVERS ?? "1");
const now = () => performance.timeOrigin + performance.now();
const ids: Set<string>[] = [];
let requests = 0;
let firstAt = 0;
let lastAt = 0;
/** Body of each event id (first seen), for the ceiling to send the same bytes. */
const bodies = new Map<string, string>();
/** Arrival times by subject (card number): [receiver, time][]. */
const arrivals = new Map<string, [number, number][]>();

function receiver(index: number): http.Server {
  ids[index] = new Set();
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const at = now();
      res.writeHead(204);
      res.end();
      const id = String(req.headers["webhook-id"]);
      requests += 1;
      if (!firstAt) firstAt = at;
      lastAt = at;
      if (ids[index].has(id)) return;
      ids[index].add(id);
      const body = Buffer.concat(chunks).toString("utf8");
      if (!bodies.has(id)) bodies.set(id, body);
      const subject = (JSON.parse(body) as { subject?: string }).subject ?? "";
      const list = arrivals.get(subject) ?? [];
      list.push([index, at]);
      arrivals.set(subject, list);
    });
  });
}

function stats() {
  const distinct = ids.reduce((sum, set) => sum + set.size, 0);
  return { requests, distinct, perReceiver: ids.map((set) => set.size), firstAt, lastAt };
}

const control = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  let answer: unknown = null;
  if (url.pathname === "/stats") answer = stats();
  else if (url.pathname === "/bodies") answer = Object.fromEntries(bodies);
  else if (url.pathname === "/arrivals") answer = arrivals.get(url.searchParams.get("subject") ?? "") ?? [];
  else if (url.pathname === "/reset") {
    for (const set of ids) set.clear();
    requests = firstAt = lastAt = 0;
    bodies.clear();
    arrivals.clear();
    answer = stats();
  }
  const text = JSON.stringify(answer);
  res.writeHead(answer === null ? 404 : 200, { "content-type": "application/json" });
  res.end(text);
});

const listen = (server: http.Server) =>
  new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));

const servers = Array.from({ length: count }, (_, i) => receiver(i));
for (const server of servers) server.keepAliveTimeout = 65_000;
const ports = await Promise.all(servers.map(listen));
const controlPort = await listen(control);
process.stdout.write(`receivers ${JSON.stringify({ control: `http://127.0.0.1:${controlPort}`, urls: ports.map((p) => `http://127.0.0.1:${p}/hooks/fpr`) })}\n`);
process.on("SIGTERM", () => process.exit(0));
