import net from "node:net";

/**
 * A TCP proxy on loopback that holds what its clients send for `delayMs` before passing it on
 * (answers come back at once), in order. Put between one process and Redis, it widens the window
 * between that process reading something and Redis acting on what it sent: a slow link, for real.
 */
export class DelayProxy {
  private constructor(
    private readonly server: net.Server,
    private readonly sockets: Set<net.Socket>,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }, delayMs: number): Promise<DelayProxy> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      sockets.add(client).add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
      client.on("data", (chunk) => setTimeout(() => upstream.writable && upstream.write(chunk), delayMs));
      upstream.on("data", (chunk) => client.writable && client.write(chunk));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new DelayProxy(server, sockets, (server.address() as net.AddressInfo).port);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
