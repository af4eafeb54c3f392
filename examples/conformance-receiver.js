// fpr-hub partner endpoint that also answers conformance probes. It verifies every request with
// the Standard Webhooks library; for a `conformance.probe` it classifies each number the way an
// adapted system should, by asking the hub (checkCard, with the chip's issue count when given).
//   WEBHOOK_SECRET=whsec_... HUB_URL=http://127.0.0.1:4000 HUB_KEY=fpr_... PORT=8787 node examples/conformance-receiver.js
import http from "node:http";
import { Webhook } from "standardwebhooks";

const webhook = new Webhook(process.env.WEBHOOK_SECRET);
const CHECK = `query($number: String!, $issueCount: Int) {
  checkCard(number: $number, issueCount: $issueCount) { result parse { valid version errors { code } } }
}`;

async function checkCard(number, issueCount) {
  const response = await fetch(`${process.env.HUB_URL}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${process.env.HUB_KEY}` },
    body: JSON.stringify({ query: CHECK, variables: { number, issueCount } }),
  });
  return (await response.json()).data.checkCard;
}

// V2023 / V2017: a well-formed FPR number; MALFORMED: fails validation; NOT_FPR: another
// document's number; REJECTED: a card instance that must not be accepted (lost, revoked, …).
async function classify({ number, issueCount }) {
  const check = await checkCard(number, issueCount ?? null);
  if (!check.parse.valid) return check.parse.errors.some((e) => e.code === "NOT_FOREIGNER_NUMBER") ? "NOT_FPR" : "MALFORMED";
  if (issueCount !== undefined && check.result !== "VALID") return "REJECTED";
  return check.parse.version;
}

http
  .createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", async () => {
      let event;
      try {
        event = webhook.verify(Buffer.concat(chunks).toString("utf8"), req.headers);
      } catch {
        res.writeHead(401).end();
        return;
      }
      if (event.type !== "conformance.probe") {
        res.writeHead(204).end(); // an ordinary change event: apply it (see webhook-receiver.js)
        return;
      }
      const answers = [];
      for (const item of event.data.items) answers.push({ id: item.id, classification: await classify(item) });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ answers }));
    });
  })
  .listen(Number(process.env.PORT ?? 8787), "127.0.0.1", () => console.log("listening"));
