// A minimal fpr-hub webhook receiver: verifies every delivery with the Standard Webhooks library,
// dedupes on webhook-id, and applies an event only if it is newer than what it holds for the card.
//   WEBHOOK_SECRET=whsec_... PORT=8787 node examples/webhook-receiver.js
import http from "node:http";
import { Webhook } from "standardwebhooks";

const webhook = new Webhook(process.env.WEBHOOK_SECRET);
const seen = new Set(); // webhook-ids already handled (use your database in production)
const latest = new Map(); // card number -> highest sequence applied

http
  .createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let event;
      try {
        event = webhook.verify(body, req.headers); // throws unless signed by the hub, within 5 minutes
      } catch {
        res.writeHead(401).end();
        return;
      }
      const id = req.headers["webhook-id"];
      if (!seen.has(id)) {
        seen.add(id);
        const { cardNumber, sequence, state } = event.data ?? {};
        if (cardNumber && sequence > (latest.get(cardNumber) ?? 0)) {
          latest.set(cardNumber, sequence);
          console.log(JSON.stringify({ verified: true, id, type: event.type, cardNumber, state, sequence }));
        } else if (!cardNumber) {
          console.log(JSON.stringify({ verified: true, id, type: event.type }));
        }
      }
      res.writeHead(204).end(); // answer fast; do slow work after acknowledging
    });
  })
  .listen(Number(process.env.PORT ?? 8787), "127.0.0.1", () => console.log("listening"));
