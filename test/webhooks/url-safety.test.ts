import { promises as dns } from "node:dns";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HubError } from "../../src/errors.ts";
import {
  addressBlockReason,
  checkUrlShape,
  isBlockedAddress,
  MAX_WEBHOOK_URL_LENGTH,
  resolveDeliverableUrl,
  type UrlPolicy,
} from "../../src/webhooks/url-safety.ts";

const STRICT: UrlPolicy = { requireHttps: true, allowCidrs: [] };
const DEV: UrlPolicy = { requireHttps: false, allowCidrs: [] };
const LOOPBACK_OK: UrlPolicy = { requireHttps: false, allowCidrs: ["127.0.0.0/8", "::1/128"] };

/** Runs `fn` and returns the HubError it throws (sync or async), failing the test otherwise. */
async function refusal(fn: () => unknown): Promise<HubError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HubError);
    const hubError = error as HubError;
    expect(hubError.code).toBe("BAD_USER_INPUT");
    return hubError;
  }
  throw new Error("expected a BAD_USER_INPUT refusal");
}

/** A fake resolver: never touches DNS. */
const answers = (...addresses: string[]) => async () => addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

describe("isBlockedAddress", () => {
  it.each([
    ["10.0.0.1", "private"],
    ["172.16.5.4", "private"],
    ["192.168.1.1", "private"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["169.254.169.254", "metadata"],
    ["169.254.1.1", "linkLocal"],
    ["fd00:ec2::254", "metadata"],
    ["100.100.100.200", "metadata"],
    ["fe80::1", "linkLocal"],
    ["fc00::1", "uniqueLocal"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:169.254.169.254", "metadata"],
    ["100.64.0.1", "carrierGradeNat"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["192.0.2.1", "reserved"],
    ["240.0.0.1", "reserved"],
    ["2002:a00:1::1", "6to4"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"],
    ["64:ff9b::a00:1", "rfc6052"],
    ["::7f00:1", "ipv4Compatible"],
    ["not-an-ip", "invalid"],
    ["127.1", "invalid"],
    ["", "invalid"],
  ])("blocks %s (%s)", (ip, reason) => {
    expect(isBlockedAddress(ip, [])).toBe(true);
    expect(addressBlockReason(ip, [])).toBe(reason);
  });

  it.each(["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"])("accepts the public address %s", (ip) => {
    expect(isBlockedAddress(ip, [])).toBe(false);
  });

  it("lets allow-listed CIDRs through, and only those", () => {
    expect(isBlockedAddress("127.0.0.1", ["127.0.0.0/8"])).toBe(false);
    expect(isBlockedAddress("127.3.2.1", ["127.0.0.0/8"])).toBe(false);
    expect(isBlockedAddress("::ffff:127.0.0.1", ["127.0.0.0/8"])).toBe(false);
    expect(isBlockedAddress("::1", ["127.0.0.0/8"])).toBe(true);
    expect(isBlockedAddress("::1", ["::1/128"])).toBe(false);
    expect(isBlockedAddress("10.1.2.3", ["10.1.0.0/16"])).toBe(false);
    expect(isBlockedAddress("10.2.0.1", ["10.1.0.0/16"])).toBe(true);
    expect(isBlockedAddress("192.168.1.1", ["192.168.1.1"])).toBe(false); // a bare address is a /32
  });

  it("never allows cloud metadata addresses, even inside an allow-listed CIDR", () => {
    expect(isBlockedAddress("169.254.169.254", ["169.254.0.0/16"])).toBe(true);
    expect(isBlockedAddress("169.254.169.254", ["0.0.0.0/0"])).toBe(true);
    expect(isBlockedAddress("fd00:ec2::254", ["::/0"])).toBe(true);
    expect(isBlockedAddress("169.254.1.1", ["169.254.0.0/16"])).toBe(false);
  });

  it("rejects a malformed allow-list as a configuration error, not as caller input", () => {
    expect(() => isBlockedAddress("8.8.8.8", ["not-a-cidr"])).toThrow(/allow-list entry "not-a-cidr"/);
    expect(() => isBlockedAddress("8.8.8.8", ["not-a-cidr"])).not.toThrow(HubError);
  });
});

describe("checkUrlShape", () => {
  it("accepts a plain https URL and returns it parsed", () => {
    const url = checkUrlShape("https://hooks.example.com/fpr?x=1", STRICT);
    expect(url.hostname).toBe("hooks.example.com");
    expect(url.search).toBe("?x=1");
  });

  it("requires https when the policy says so", async () => {
    const error = await refusal(() => checkUrlShape("http://hooks.example.com/fpr", STRICT));
    expect(error.message).toMatch(/must use https/);
    expect(error.message).toContain("hooks.example.com");
    expect(checkUrlShape("http://hooks.example.com/fpr", DEV).protocol).toBe("http:");
  });

  it.each(["ftp://hooks.example.com/x", "file:///etc/passwd", "javascript:alert(1)", "data:text/plain,hi", "ws://hooks.example.com/"])(
    "refuses the non-http scheme in %s",
    async (raw) => {
      const error = await refusal(() => checkUrlShape(raw, DEV));
      expect(error.message).toMatch(/must use https or http/);
    },
  );

  it("refuses user names and passwords without echoing them", async () => {
    for (const raw of ["https://user:s3cr3t@hooks.example.com/x", "https://user@hooks.example.com/x", "https://:s3cr3t@hooks.example.com/x"]) {
      const error = await refusal(() => checkUrlShape(raw, STRICT));
      expect(error.message).toMatch(/user name or password/);
      expect(error.message).toContain("hooks.example.com");
      expect(error.message).not.toContain("s3cr3t");
    }
  });

  it("refuses fragments, even empty ones", async () => {
    for (const raw of ["https://hooks.example.com/x#frag", "https://hooks.example.com/x#"]) {
      const error = await refusal(() => checkUrlShape(raw, STRICT));
      expect(error.message).toMatch(/fragment/);
    }
  });

  it.each(["", "not a url", "hooks.example.com/x", "//hooks.example.com/x", "https://", "http://[::1", "https://exa mple.com/", " https://hooks.example.com/", "https://hooks.example.com/\n"])(
    "refuses the garbage string %j",
    async (raw) => {
      await refusal(() => checkUrlShape(raw, STRICT));
    },
  );

  it("refuses overly long URLs", async () => {
    const base = "https://hooks.example.com/";
    const ok = base + "a".repeat(MAX_WEBHOOK_URL_LENGTH - base.length);
    expect(checkUrlShape(ok, STRICT).href).toBe(ok);
    const error = await refusal(() => checkUrlShape(ok + "a", STRICT));
    expect(error.message).toMatch(/longer than 2048/);
    // Percent-encoding can grow a URL past the limit: the normalised form is checked too.
    await refusal(() => checkUrlShape(base + "é".repeat(1000), STRICT));
  });

  it("never puts the query string or path in messages", async () => {
    const error = await refusal(() => checkUrlShape("http://hooks.example.com/p/secret-path?token=s3cr3t", STRICT));
    expect(error.message).not.toMatch(/s3cr3t|secret-path|token/);
    const blocked = await refusal(() => checkUrlShape("https://10.0.0.1/p?token=s3cr3t", STRICT));
    expect(blocked.message).not.toMatch(/s3cr3t|token/);
  });

  it("refuses blocked IP-literal hosts without any lookup, naming the host", async () => {
    for (const raw of [
      "https://10.0.0.1/x",
      "https://127.0.0.1:8443/x",
      "https://[::1]/x",
      "https://169.254.169.254/latest/meta-data/",
      "https://[fd00:ec2::254]/",
      "https://[::ffff:127.0.0.1]/",
      "https://0x7f.1/x", // WHATWG URL normalises this to 127.0.0.1
      "https://2130706433/x", // ... and this
      "https://0.0.0.0/x",
    ]) {
      const error = await refusal(() => checkUrlShape(raw, STRICT));
      expect(error.message).toMatch(/^webhook url host \S+ is not deliverable: the hub delivers only to hosts with public addresses$/);
      expect(error.extensions).toEqual({ field: "url", reason: "UNDELIVERABLE_HOST" });
    }
    const metadata = await refusal(() => checkUrlShape("https://169.254.169.254/", STRICT));
    expect(metadata.message).toContain("169.254.169.254");
    expect(checkUrlShape("https://93.184.216.34/x", STRICT).hostname).toBe("93.184.216.34");
  });
});

describe("resolveDeliverableUrl", () => {
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("refuses loopback literals unless allow-listed, then pins them", async () => {
    await refusal(() => resolveDeliverableUrl(`http://127.0.0.1:${port}/hook`, DEV));
    const target = await resolveDeliverableUrl(`http://127.0.0.1:${port}/hook`, LOOPBACK_OK);
    expect(target).toMatchObject({ address: "127.0.0.1", family: 4 });
    expect(target.url.port).toBe(String(port));
    const v6 = await resolveDeliverableUrl("http://[::1]:8080/hook", LOOPBACK_OK);
    expect(v6).toMatchObject({ address: "::1", family: 6 });
  });

  it("the allow-listed loopback target is really reachable", async () => {
    const target = await resolveDeliverableUrl(`http://127.0.0.1:${port}/hook`, { requireHttps: false, allowCidrs: ["127.0.0.0/8"] });
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: target.address, port: Number(target.url.port), path: target.url.pathname, agent: false }, (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve(text));
      }).on("error", reject);
    });
    expect(body).toBe("ok");
  });

  it("refuses `localhost` (resolved by the system resolver) without an allow-list", async () => {
    const error = await refusal(() => resolveDeliverableUrl(`http://localhost:${port}/hook`, DEV));
    expect(error.message).toBe("webhook url host localhost is not deliverable: the hub delivers only to hosts with public addresses");
    const target = await resolveDeliverableUrl(`http://localhost:${port}/hook`, LOOPBACK_OK);
    expect(isBlockedAddress(target.address, [])).toBe(true);
    expect(target.url.hostname).toBe("localhost");
  });

  it("refuses a host that cannot be resolved (.invalid never resolves)", async () => {
    const error = await refusal(() => resolveDeliverableUrl("https://nothing.invalid/hook?token=s3cr3t", STRICT));
    expect(error.message).toBe("webhook url host nothing.invalid is not deliverable: the hub delivers only to hosts with public addresses");
    expect(error.extensions).toEqual({ field: "url", reason: "UNDELIVERABLE_HOST" });
  });

  it("the system resolver fails fast for .invalid here", async () => {
    const started = Date.now();
    await expect(dns.lookup("nothing.invalid", { all: true })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("refuses when ANY resolved address is blocked (DNS rebinding defence)", async () => {
    for (const pair of [
      ["93.184.216.34", "10.0.0.1"],
      ["10.0.0.1", "93.184.216.34"],
      ["2606:4700::1", "::ffff:169.254.169.254"],
    ]) {
      const error = await refusal(() => resolveDeliverableUrl("https://rebind.example/hook", STRICT, { lookup: answers(...pair) }));
      expect(error.message).toMatch(/host rebind\.example is not deliverable/);
      expect(error.message).not.toContain(pair.find((a) => isBlockedAddress(a, []))!);
    }
  });

  it("pins the first address when all are public", async () => {
    const target = await resolveDeliverableUrl("https://hooks.example.com/fpr", STRICT, {
      lookup: answers("2606:4700::1", "93.184.216.34"),
    });
    expect(target).toMatchObject({ address: "2606:4700::1", family: 6 });
    expect(target.url.href).toBe("https://hooks.example.com/fpr");
  });

  it("answers a host that resolves to loopback, to a private address, to nothing or not at all with one message", async () => {
    const messages = new Set<string>();
    for (const lookup of [answers("127.0.0.1"), answers("10.1.2.3"), answers("93.184.216.34", "::1"), answers(), () => Promise.reject(new Error("ENOTFOUND"))]) {
      const error = await refusal(() => resolveDeliverableUrl("https://hooks.internal.example/x", STRICT, { lookup }));
      messages.add(JSON.stringify([error.message, error.extensions]));
    }
    expect([...messages]).toHaveLength(1);
  });

  it("treats an empty answer, a failing resolver and a hanging resolver as unresolvable", async () => {
    await refusal(() => resolveDeliverableUrl("https://hooks.example.com/", STRICT, { lookup: answers() }));
    await refusal(() =>
      resolveDeliverableUrl("https://hooks.example.com/", STRICT, {
        lookup: async () => {
          throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
        },
      }),
    );
    const error = await refusal(() =>
      resolveDeliverableUrl("https://hooks.example.com/", STRICT, { lookup: () => new Promise(() => {}), lookupTimeoutMs: 50 }),
    );
    expect(error.message).toMatch(/is not deliverable/);
  });

  it("runs the shape checks first", async () => {
    let looked = false;
    const lookup = async () => {
      looked = true;
      return [{ address: "93.184.216.34", family: 4 }];
    };
    await refusal(() => resolveDeliverableUrl("http://hooks.example.com/", STRICT, { lookup }));
    await refusal(() => resolveDeliverableUrl("https://u:p@hooks.example.com/", STRICT, { lookup }));
    expect(looked).toBe(false);
  });
});
