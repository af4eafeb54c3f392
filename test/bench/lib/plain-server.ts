/**
 * The lookup ceiling: a plain node:http server in its own process that answers every request with
 * the same bytes, after reading the request body, as the hub would. The bytes are set once by
 * `PUT /__response` (body = the bytes, content-type = theirs), so the server can start early.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

let body = Buffer.alloc(0);
let contentType = "application/json; charset=utf-8";
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => {
    if (req.method === "PUT") chunks.push(chunk);
  });
  req.on("end", () => {
    if (req.method === "PUT" && req.url === "/__response") {
      body = Buffer.concat(chunks);
      contentType = req.headers["content-type"] ?? contentType;
      res.writeHead(204);
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": contentType, "content-length": body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
