import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestHub } from "../helpers/temp-hub.ts";
import { issue, v2023 } from "../helpers/webhook-fixtures.ts";

const VERIFY = `query($input: VerifyHolderInput!) {
  verifyHolder(input: $input) { result auditId check { result number issueCount } }
}`;

describe("holder verification", () => {
  let hub: TestHub;
  let issuer: string;
  let partner: { secret: string; partnerId: string };
  const number = v2023(11);
  const lost = v2023(12);

  beforeAll(async () => {
    hub = await TestHub.start({ VERIFY_SLOW_AFTER: "50", VERIFY_BLOCK_AFTER: "100" });
    issuer = hub.key("ISSUER");
    partner = hub.partnerKey();
    await issue(hub, issuer, number, { englishName: "Zhang-Müller, Anna Maria", chineseName: "张安娜" });
    await issue(hub, issuer, lost, { englishName: "LOST, PERSON" });
    await hub.gql(issuer, `mutation { reportCardLost(number: "${lost}") { state } }`);
  });
  afterAll(() => hub.close());

  const verify = (input: Record<string, unknown>, key = partner.secret) => hub.gql(key, VERIFY, { input });

  it("matches names after normalization: case, spacing, punctuation, word order, Unicode forms", async () => {
    for (const englishName of ["ZHANG-MÜLLER, ANNA MARIA", "anna maria zhang müller", "  Anna   Maria ZHANG MÜLLER ", "Ａｎｎａ Maria Zhang-Müller", "Zhang Müller Anna Maria"]) {
      const answer = await verify({ number, englishName });
      expect([englishName, answer.data?.verifyHolder.result]).toEqual([englishName, "MATCH"]);
    }
    expect((await verify({ number, chineseName: "张 安娜" })).data.verifyHolder.result).toBe("MATCH");
    expect((await verify({ number, birthDate: "1979-04-12", chineseName: "张安娜" })).data.verifyHolder.result).toBe("MATCH");
  });

  it("answers NO_MATCH when any detail given differs", async () => {
    expect((await verify({ number, englishName: "Anna Zhang" })).data.verifyHolder.result).toBe("NO_MATCH");
    expect((await verify({ number, chineseName: "张安" })).data.verifyHolder.result).toBe("NO_MATCH");
    expect((await verify({ number, englishName: "Anna Maria Zhang-Müller", birthDate: "1979-04-13" })).data.verifyHolder.result).toBe("NO_MATCH");
  });

  it("does not compare details for cards that are not valid, not found or malformed", async () => {
    const notValid = await verify({ number: lost, englishName: "LOST, PERSON" });
    expect(notValid.data.verifyHolder).toMatchObject({ result: "CARD_NOT_VALID", check: { result: "REPORTED_LOST" } });
    expect((await verify({ number: v2023(13), englishName: "X" })).data.verifyHolder.result).toBe("NOT_FOUND");
    expect((await verify({ number, issueCount: 4, englishName: "X" })).data.verifyHolder.result).toBe("NOT_FOUND");
    expect((await verify({ number: "110101199003074258", englishName: "X" })).data.verifyHolder).toMatchObject({ result: "MALFORMED", check: { result: "MALFORMED" } });
  });

  it("refuses a verification with no details, or with a malformed birth date", async () => {
    expect((await verify({ number })).errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    expect((await verify({ number, englishName: "   " })).errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    expect((await verify({ number, birthDate: "1979-02-30" })).errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("never returns a name, and audits every verification without the number", async () => {
    const answer = await verify({ number, englishName: "Anna Maria Zhang-Müller" });
    expect(JSON.stringify(answer.data)).not.toMatch(/anna|zhang|张/i);
    hub.services.audit.flush();
    const row = hub.services.db.$client.prepare("SELECT * FROM audit_log WHERE id = ?").get(answer.data.verifyHolder.auditId) as Record<string, unknown>;
    expect(row).toMatchObject({ kind: "VERIFY", result: "MATCH", version: "V2023", partner_id: partner.partnerId });
    expect(JSON.stringify(hub.services.db.$client.prepare("SELECT * FROM audit_log").all())).not.toContain(number);
  });

  it("audits every check and every batch item, and marks the partner as observed checking V2023", async () => {
    const count = () => {
      hub.services.audit.flush();
      return (hub.services.db.$client.prepare("SELECT count(*) AS n FROM audit_log WHERE kind = 'CHECK'").get() as { n: number }).n;
    };
    const before = count();
    const viewer = hub.partnerKey();
    expect((await hub.gql(viewer.secret, "{ me { adaptation { lastV2023CheckAt level } } }")).data.me.adaptation).toEqual({ lastV2023CheckAt: null, level: "NONE" });
    await hub.gql(viewer.secret, `{ checkCard(number: "${number}") { result } }`);
    await hub.gql(viewer.secret, `{ checkCards(numbers: ["${number}", "bad", "${lost}"]) { result } }`);
    expect(count()).toBe(before + 4);
    const me = await hub.gql(viewer.secret, "{ me { adaptation { lastV2023CheckAt level } } }");
    expect(me.data.me.adaptation.level).toBe("OBSERVED");
    expect(me.data.me.adaptation.lastV2023CheckAt).toBeTruthy();
  });

  it("keeps no plaintext names anywhere in the database files after issuing through the API", async () => {
    await issue(hub, issuer, v2023(14), { englishName: "Quixotic Bartholomew-Fennimore", chineseName: "欧阳锋锐" });
    hub.services.audit.flush();
    hub.services.db.$client.pragma("wal_checkpoint(TRUNCATE)");
    const file = hub.config.databasePath;
    const bytes = Buffer.concat([file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
    expect(bytes.includes(Buffer.from(v2023(14)))).toBe(true); // the search itself works
    for (const needle of ["Quixotic", "QUIXOTIC", "Bartholomew", "BARTHOLOMEW", "Fennimore", "FENNIMORE", "欧阳锋锐", "Zhang", "ZHANG", "张安娜"]) {
      expect([needle, bytes.includes(Buffer.from(needle))]).toEqual([needle, false]);
    }
  });
});
