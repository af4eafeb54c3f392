import type http from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError } from "../config.ts";

/** Why the server could not listen, as a one-line reason naming the settings (`names`: PORT and HOST, or OPS_PORT and OPS_HOST). */
function listenError(error: NodeJS.ErrnoException, port: number, host: string, names: { port: string; host: string }): Error {
  const at = `${host}:${port}`;
  switch (error.code) {
    case "EADDRINUSE":
      return new ConfigError(`${names.port} ${port} is already in use on ${host} (another fpr-hub, or another program, listens at ${at}): stop it or choose another ${names.port}`);
    case "EACCES":
      return new ConfigError(`${names.port} ${port} needs privileges this user lacks (ports below 1024 do): choose ${names.port} 1024 or above, or put a proxy in front`);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ConfigError(`${names.host} "${host}" is not a name this machine can resolve (${error.code}): set ${names.host} to an address of this machine, e.g. 127.0.0.1 or 0.0.0.0`);
    case "EADDRNOTAVAIL":
      return new ConfigError(`${names.host} ${host} is not an address of this machine (EADDRNOTAVAIL): set ${names.host} to one of its addresses, e.g. 127.0.0.1 or 0.0.0.0`);
    default:
      return error;
  }
}

export function listen(server: http.Server, port: number, host: string, names = { port: "PORT", host: "HOST" }): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => reject(listenError(error, port, host, names));
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Responses being written, per server (see trackInFlight). */
const inFlight = new WeakMap<http.Server, Set<http.ServerResponse>>();

/** Keeps count of the server's responses in flight, so closeServer can end their connections after them. */
export function trackInFlight(server: http.Server): http.Server {
  const responses = new Set<http.ServerResponse>();
  inFlight.set(server, responses);
  server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
    responses.add(res);
    res.once("close", () => responses.delete(res));
  });
  return server;
}

/**
 * Stops accepting connections and resolves once every open one has closed: requests in flight are
 * answered (with `Connection: close` where the headers are not yet sent), idle keep-alive
 * connections are closed at once and again as they fall idle (Node's close() alone would wait out
 * keepAliveTimeout on each).
 */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    for (const res of inFlight.get(server) ?? []) if (!res.headersSent) res.setHeader("connection", "close");
    server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => res.setHeader("connection", "close"));
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** How many connections the server has open. */
export function openConnections(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));
}
