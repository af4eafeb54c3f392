import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  id: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; time: string; subject?: string; source: string; specversion: string; data: Record<string, any> };
  verified: boolean;
  /** When the receiver answered 2xx (Unix ms): the end of the event's event-to-2xx latency. */
  receivedAt: number;
}

/** Decides the answer to one request: a status, optionally extra headers and a delay. */
export type Responder = (request: { id: string; attempt: number }) => { status: number; headers?: Record<string, string>; delayMs?: number };

/**
 * A real HTTP webhook receiver on loopback that verifies every request with the standardwebhooks
 * package, as a partner would, and records what it accepted.
 */
export class TestReceiver {
  readonly received: Received[] = [];
  readonly attempts = new Map<string, number>();
  secrets: string[] = [];
  respond: Responder = () => ({ status: 204 });
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<TestReceiver> {
    const receiver: TestReceiver = new TestReceiver(http.createServer((req, res) => receiver.handle(req, res)));
    await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/fpr`;
  }

  /** Verifies with any of the secrets set on the receiver, exactly as a partner's code would. */
  private verify(body: string, headers: http.IncomingHttpHeaders): boolean {
    const wanted = {
      "webhook-id": String(headers["webhook-id"]),
      "webhook-timestamp": String(headers["webhook-timestamp"]),
      "webhook-signature": String(headers["webhook-signature"]),
    };
    return this.secrets.some((secret) => {
      try {
        new Webhook(secret).verify(body, wanted);
        return true;
      } catch {
        return false;
      }
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const id = String(req.headers["webhook-id"]);
      const attempt = (this.attempts.get(id) ?? 0) + 1;
      this.attempts.set(id, attempt);
      const answer = this.respond({ id, attempt });
      const finish = () => {
        if (answer.status >= 200 && answer.status < 300) {
          this.received.push({ id, headers: req.headers, body, event: JSON.parse(body), verified: this.verify(body, req.headers), receivedAt: Date.now() });
          for (const wake of this.waiters.splice(0)) wake();
        }
        res.writeHead(answer.status, answer.headers);
        res.end();
      };
      if (answer.delayMs) setTimeout(finish, answer.delayMs);
      else finish();
    });
  }

  /** Distinct event ids accepted so far (a receiver dedupes on webhook-id). */
  ids(): Set<string> {
    return new Set(this.received.map((r) => r.id));
  }

  async waitFor(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`receiver: condition not met within ${timeoutMs} ms (received ${this.received.length})`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls until `predicate` holds. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
