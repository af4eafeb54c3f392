import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import tls from "node:tls";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { closePinnedAgents, DeliveryNetworkError, postPinned, type PostResult } from "../../src/webhooks/pinned-post.ts";
import type { PinnedTarget } from "../../src/webhooks/url-safety.ts";

// Every request in this file goes to loopback (127.0.0.1 / 127.0.0.2); `pinned.test` never resolves.

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  localAddress: string;
  remotePort: number;
}

interface TestServer {
  server: net.Server;
  port: number;
  received: Received[];
}

const servers: net.Server[] = [];

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if (server instanceof http.Server) server.closeAllConnections();
  });
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map(closeServer));
});

afterAll(() => {
  closePinnedAgents();
});

async function listen<S extends net.Server>(server: S, host = "127.0.0.1", port = 0): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** A loopback HTTP server that records each request (after reading its body) before `respond` runs. */
async function startServer(
  respond: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  host = "127.0.0.1",
  port = 0,
): Promise<TestServer> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      received.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body,
        localAddress: req.socket.localAddress ?? "",
        remotePort: req.socket.remotePort ?? 0,
      });
      respond(req, res);
    });
  });
  return { server, port: await listen(server, host, port), received };
}

function target(url: string, address = "127.0.0.1"): PinnedTarget {
  return { url: new URL(url), address, family: address.includes(":") ? 6 : 4 };
}

const BASE = { headers: { "content-type": "application/cloudevents+json" }, body: '{"hello":"world"}', timeoutMs: 5_000, maxResponseBytes: 64 * 1024 };

async function networkError(promise: Promise<PostResult>): Promise<DeliveryNetworkError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DeliveryNetworkError);
    return error as DeliveryNetworkError;
  }
  throw new Error("expected a DeliveryNetworkError");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("postPinned", () => {
  it("POSTs the body with Content-Length and the caller's headers, and returns a 2xx", async () => {
    const { port, received } = await startServer((_req, res) => res.writeHead(202, { "content-type": "text/plain" }).end("accepted"));
    const result = await postPinned(target(`http://127.0.0.1:${port}/hooks/fpr?x=1`), {
      ...BASE,
      headers: { ...BASE.headers, "webhook-id": "evt_1", "Content-Length": "999", Host: "evil.example" },
      body: '{"name":"王"}',
    });
    expect(result).toMatchObject({ status: 202, retryAfter: null, bodySnippet: "accepted" });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request).toMatchObject({ method: "POST", url: "/hooks/fpr?x=1", body: '{"name":"王"}' });
    expect(request!.headers["content-length"]).toBe(String(Buffer.byteLength('{"name":"王"}')));
    expect(request!.headers["content-type"]).toBe("application/cloudevents+json");
    expect(request!.headers["webhook-id"]).toBe("evt_1");
    expect(request!.headers.host).toBe(`127.0.0.1:${port}`);
  });

  it("connects to the pinned address, keeping the URL's host in the Host header", async () => {
    const { port, received } = await startServer((_req, res) => res.end("ok"));
    // `pinned.test` has no DNS entry: the request can only arrive through the pinned lookup.
    const result = await postPinned(target(`http://pinned.test:${port}/hook`, "127.0.0.1"), BASE);
    expect(result.status).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0]!.headers.host).toBe(`pinned.test:${port}`);
  });

  it("pools keep-alive sockets per pinned address (same host name, different pins never share a socket)", async () => {
    const one = await startServer((_req, res) => res.end("one"), "127.0.0.1");
    const two = await startServer((_req, res) => res.end("two"), "127.0.0.2", one.port);
    const url = `http://pinned.test:${one.port}/hook`;
    expect((await postPinned(target(url, "127.0.0.1"), BASE)).bodySnippet).toBe("one");
    expect((await postPinned(target(url, "127.0.0.2"), BASE)).bodySnippet).toBe("two");
    expect((await postPinned(target(url, "127.0.0.1"), BASE)).bodySnippet).toBe("one");
    expect(one.received.map((r) => r.localAddress)).toEqual(["127.0.0.1", "127.0.0.1"]);
    expect(two.received.map((r) => r.localAddress)).toEqual(["127.0.0.2"]);
    // The keep-alive agent reused the first socket for the third request.
    expect(one.received[1]!.remotePort).toBe(one.received[0]!.remotePort);
  });

  it("never follows redirects: a 302 is returned and its Location is never contacted", async () => {
    const elsewhere = await startServer((_req, res) => res.end("should not be reached"));
    const { port } = await startServer((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/stolen` }).end());
    const result = await postPinned(target(`http://127.0.0.1:${port}/hook`), BASE);
    expect(result.status).toBe(302);
    await sleep(100);
    expect(elsewhere.received).toHaveLength(0);
  });

  it("returns 4xx/5xx as statuses and surfaces Retry-After", async () => {
    const { port } = await startServer((req, res) => {
      if (req.url === "/429") res.writeHead(429, { "retry-after": "7" }).end("slow down");
      else if (req.url === "/503") res.writeHead(503, { "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" }).end();
      else res.writeHead(410).end("gone");
    });
    expect(await postPinned(target(`http://127.0.0.1:${port}/429`), BASE)).toMatchObject({ status: 429, retryAfter: "7", bodySnippet: "slow down" });
    expect(await postPinned(target(`http://127.0.0.1:${port}/503`), BASE)).toMatchObject({
      status: 503,
      retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT",
    });
    expect(await postPinned(target(`http://127.0.0.1:${port}/410`), BASE)).toMatchObject({ status: 410, retryAfter: null });
  });

  it("times out a server that never answers, within the timeout", async () => {
    const { port, received } = await startServer(() => {
      /* never respond */
    });
    const started = performance.now();
    const error = await networkError(postPinned(target(`http://127.0.0.1:${port}/hook`), { ...BASE, timeoutMs: 300 }));
    const elapsed = performance.now() - started;
    expect(error.kind).toBe("timeout");
    expect(error.message).toMatch(/no response within 300 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
    expect(error.latencyMs).toBeGreaterThanOrEqual(290);
    expect(received).toHaveLength(1);
  });

  it("keeps the status when the timeout hits while the body is still trickling in", async () => {
    const { port } = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial"); // ... and never end
    });
    const started = performance.now();
    const result = await postPinned(target(`http://127.0.0.1:${port}/hook`), { ...BASE, timeoutMs: 300 });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(result).toMatchObject({ status: 200, bodySnippet: "partial" });
  });

  it("reads at most maxResponseBytes of a huge body, then hangs up and returns", async () => {
    let sent = 0;
    const { port } = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      const chunk = Buffer.alloc(64 * 1024, "x");
      let open = true;
      res.on("close", () => (open = false));
      res.on("error", () => (open = false));
      const pump = () => {
        while (open && sent < 512 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        if (open) res.end();
      };
      pump();
    });
    const started = performance.now();
    const result = await postPinned(target(`http://127.0.0.1:${port}/hook`), { ...BASE, maxResponseBytes: 100 * 1024, timeoutMs: 10_000 });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result.status).toBe(200);
    expect(result.bodySnippet).toBe("x".repeat(256));
    await sleep(50);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it("keeps the snippet to 256 characters even for a small limit and multi-byte text", async () => {
    const { port } = await startServer((_req, res) => res.end("é".repeat(1000)));
    const small = await postPinned(target(`http://127.0.0.1:${port}/hook`), { ...BASE, maxResponseBytes: 10 });
    expect(small.bodySnippet).toBe("é".repeat(5));
    const large = await postPinned(target(`http://127.0.0.1:${port}/hook`), BASE);
    expect(large.bodySnippet).toBe("é".repeat(256));
  });

  it("reports a refused connection as kind connect", async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await closeServer(probe);
    const error = await networkError(postPinned(target(`http://pinned.test:${port}/hook`), BASE));
    expect(error.kind).toBe("connect");
    expect(error.message).toBe("connection refused");
  });

  it("reports a connection dropped before any response as kind reset", async () => {
    const server = net.createServer((socket) => socket.once("data", () => socket.destroy()));
    const port = await listen(server);
    const error = await networkError(postPinned(target(`http://127.0.0.1:${port}/hook`), BASE));
    expect(error.kind).toBe("reset");
  });

  it("reports a response that is not HTTP as kind other", async () => {
    const server = net.createServer((socket) => socket.once("data", () => socket.end("HELLO THERE\r\n\r\n")));
    const port = await listen(server);
    const error = await networkError(postPinned(target(`http://127.0.0.1:${port}/hook`), BASE));
    expect(error.kind).toBe("other");
    expect(error.message).toMatch(/invalid HTTP response/);
  });

  it("uses the URL's host name for TLS SNI and certificate checks while connecting to the pinned address", async () => {
    const sniNames: string[] = [];
    const context = tls.createSecureContext({ key: TEST_KEY, cert: TEST_CERT });
    const server = https.createServer(
      {
        key: TEST_KEY,
        cert: TEST_CERT,
        SNICallback: (name, callback) => {
          sniNames.push(name);
          callback(null, context);
        },
      },
      (_req, res) => res.end("ok"),
    );
    server.on("tlsClientError", () => {});
    const port = await listen(server);
    // The self-signed test certificate is for pinned.test: the handshake reaches the pinned address
    // with SNI pinned.test, and the client then refuses the certificate because no CA vouches for it.
    const error = await networkError(postPinned(target(`https://pinned.test:${port}/hook`), BASE));
    expect(error.kind).toBe("other");
    expect(error.message).toMatch(/^TLS failure \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\)/);
    expect(sniNames).toEqual(["pinned.test"]);
  });

  it("refuses a target whose IP-literal host disagrees with the pinned address", async () => {
    const error = await networkError(postPinned(target("http://127.0.0.1:9/hook", "127.0.0.2"), BASE));
    expect(error.kind).toBe("other");
  });
});

// A throwaway self-signed certificate for CN/SAN pinned.test (valid until 2126), for the TLS test only.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTfVm8pYK07cffie6
k5wMprvj9ySwkse/gGCL6+C3JV+hRANCAARclTawuJPCRXUwEWwxYnBcUNF2LTkI
R8qFpdAfxpY08ewlhAgRRfU7nXmssRzJoSsNaTk1alGGQYtEFGZO5R5N
-----END PRIVATE KEY-----
`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUBUftJVzPxLaZSvIvJEy3fTkmSawwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLcGlubmVkLnRlc3QwIBcNMjYxMTIxMTk0NzQwWhgPMjEyNjEw
MjgxOTQ3NDBaMBYxFDASBgNVBAMMC3Bpbm5lZC50ZXN0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEXJU2sLiTwkV1MBFsMWJwXFDRdi05CEfKhaXQH8aWNPHsJYQI
EUX1O515rLEcyaErDWk5NWpRhkGLRBRmTuUeTaNrMGkwHQYDVR0OBBYEFEETQRLO
RKCYhQbsOqZ4+8ubekLVMB8GA1UdIwQYMBaAFEETQRLORKCYhQbsOqZ4+8ubekLV
MA8GA1UdEwEB/wQFMAMBAf8wFgYDVR0RBA8wDYILcGlubmVkLnRlc3QwCgYIKoZI
zj0EAwIDSAAwRQIgUGbKwSJaYHmaeWMGhOysg20rDZawYKvDb+UcBXKyPmACIQD3
V6Mce8dcCWWIFRcM9QbxYY4hwgKjiHT/YlqiyocrIw==
-----END CERTIFICATE-----
`;
