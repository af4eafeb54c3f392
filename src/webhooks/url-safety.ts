/**
 * Safety checks for webhook target URLs (server-side request forgery defence).
 *
 * A URL is deliverable when it is a plain http(s) URL without credentials or fragment, and EVERY
 * address its host resolves to is public unicast, or inside a CIDR the operator allow-listed
 * (tests and local demos allow-list loopback). The check runs at subscription creation and again
 * before each attempt; the attempt then connects to the pinned address returned here (see
 * `pinned-post.ts`), so a DNS answer that changes between check and connect (rebinding) cannot
 * steer the request somewhere else.
 *
 * Error messages name the host but never the path, query string or credentials. Every unsafe or
 * unresolvable host gets the same message (UNDELIVERABLE_HOST): telling "resolves to loopback"
 * from "cannot be resolved" would let a caller map the hub's internal DNS names.
 */
import { promises as dns } from "node:dns";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { HubError } from "../errors.ts";

export interface UrlPolicy {
  /** Refuse plain `http:` (production); development mode allows it. */
  requireHttps: boolean;
  /** CIDRs (or bare addresses) that are deliverable even though not public, e.g. "127.0.0.0/8", "::1/128". */
  allowCidrs: readonly string[];
}

/** A checked URL plus the one address the attempt must connect to. */
export interface PinnedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/**
 * Cloud metadata / host-agent endpoints. Refused even when an allow-listed CIDR covers them: no
 * operator setting makes the hub POST to its own cloud credentials endpoint.
 * AWS/GCP/Azure/Oracle IMDS 169.254.169.254, AWS IMDS over IPv6 fd00:ec2::254, GCP IPv6
 * fd20:ce::254, Alibaba 100.100.100.200, Azure WireServer 168.63.129.16.
 */
const METADATA_ADDRESSES: ReadonlySet<string> = new Set(
  ["169.254.169.254", "100.100.100.200", "168.63.129.16", "fd00:ec2::254", "fd20:ce::254"].map((a) =>
    ipaddr.parse(a).toNormalizedString(),
  ),
);

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

/** Parses a literal address strictly (dotted-quad IPv4 or IPv6, optional brackets); null if it is not one. */
function parseLiteral(ip: string): Address | null {
  let text = ip.trim();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  try {
    if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
    if (ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  } catch {
    return null;
  }
  return null;
}

const cidrCache = new Map<string, readonly Cidr[]>();

function parseAllowCidrs(allowCidrs: readonly string[]): readonly Cidr[] {
  if (allowCidrs.length === 0) return [];
  const key = allowCidrs.join(",");
  const cached = cidrCache.get(key);
  if (cached) return cached;
  const parsed = allowCidrs.map((entry): Cidr => {
    const text = entry.trim();
    try {
      if (text.includes("/")) return ipaddr.parseCIDR(text);
      const address = parseLiteral(text);
      if (address) return [address, address.kind() === "ipv4" ? 32 : 128];
    } catch {
      // fall through to the error below
    }
    // Operator configuration, not caller input: a plain Error, reported as internal.
    throw new Error(`webhook allow-list entry "${entry}" is not a CIDR or IP address`);
  });
  if (cidrCache.size >= 64) cidrCache.clear();
  cidrCache.set(key, parsed);
  return parsed;
}

function inCidr(address: Address, [network, bits]: Cidr): boolean {
  return address.kind() === network.kind() && address.match(network, bits);
}

function isAllowListed(original: Address, effective: Address, cidrs: readonly Cidr[]): boolean {
  const forms: Address[] = [original, effective];
  if (effective.kind() === "ipv4") forms.push((effective as ipaddr.IPv4).toIPv4MappedAddress());
  return cidrs.some((cidr) => forms.some((form) => inCidr(form, cidr)));
}

/**
 * Why an address may not be contacted, or null when it may. Reasons are ipaddr.js range names
 * ("loopback", "private", "linkLocal", "uniqueLocal", "carrierGradeNat", "6to4", ...) plus
 * "metadata", "ipv4Compatible" and "invalid".
 */
export function addressBlockReason(ip: string, allowCidrs: readonly string[]): string | null {
  const cidrs = parseAllowCidrs(allowCidrs);
  const original = parseLiteral(ip);
  if (!original) return "invalid";
  // ::ffff:a.b.c.d reaches the IPv4 host a.b.c.d: judge it as that.
  let effective: Address = original;
  if (original.kind() === "ipv6" && (original as ipaddr.IPv6).isIPv4MappedAddress()) {
    effective = (original as ipaddr.IPv6).toIPv4Address();
  }
  if (METADATA_ADDRESSES.has(effective.toNormalizedString())) return "metadata";
  if (isAllowListed(original, effective, cidrs)) return null;
  const range = effective.range();
  if (range !== "unicast") return range;
  // Deprecated IPv4-compatible addresses (::a.b.c.d), which ipaddr.js calls unicast.
  if (effective.kind() === "ipv6" && (effective as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0)) {
    return "ipv4Compatible";
  }
  return null;
}

/**
 * True when the hub must not connect to `ip`: anything that is not public unicast (loopback,
 * private, link-local, multicast, unspecified, broadcast, carrier-grade NAT, unique-local,
 * reserved, 6to4/Teredo/NAT64 and other embeddings), judged on the IPv4 address for IPv4-mapped
 * IPv6, unless inside `allowCidrs`. Cloud metadata addresses are blocked even when allow-listed.
 * Strings that are not a dotted-quad IPv4 or an IPv6 address are blocked.
 */
export function isBlockedAddress(ip: string, allowCidrs: readonly string[]): boolean {
  return addressBlockReason(ip, allowCidrs) !== null;
}

function refuse(message: string, reason: string): never {
  throw new HubError("BAD_USER_INPUT", message, { field: "url", reason });
}

/** The one answer for a host that is not public, resolves to an address that is not, or does not resolve. */
function refuseHost(hostname: string): never {
  return refuse(`webhook url host ${hostname} is not deliverable: the hub delivers only to hosts with public addresses`, "UNDELIVERABLE_HOST");
}

/** The host as shown in messages: hostname (brackets kept for IPv6) plus any explicit port. */
function hostForMessage(url: URL): string {
  return url.host;
}

/** Hostname without the brackets URL keeps around IPv6 literals. */
function bareHostname(url: URL): string {
  const host = url.hostname;
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/**
 * Synchronous checks: parses `raw` and refuses anything that is not a plain http(s) URL fit for
 * delivery. IP-literal hosts are also checked against the address rules here (no DNS needed).
 * Throws HubError BAD_USER_INPUT.
 */
export function checkUrlShape(raw: string, policy: UrlPolicy): URL {
  if (typeof raw !== "string" || raw.length === 0) refuse("webhook url is empty", "EMPTY");
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    refuse(`webhook url is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`, "TOO_LONG");
  }
  // URL parsing silently strips or encodes these; refuse them so what is stored is what was sent.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
  if (/[\u0000-\u0020\u007f]/.test(raw)) {
    refuse("webhook url must not contain spaces or control characters", "INVALID_CHARACTERS");
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("webhook url is not a valid absolute URL", "INVALID_URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    refuse(`webhook url must use https${policy.requireHttps ? "" : " or http"}, not ${url.protocol.slice(0, 20)}`, "SCHEME");
  }
  if (policy.requireHttps && url.protocol !== "https:") {
    refuse(`webhook url for host ${hostForMessage(url)} must use https`, "HTTPS_REQUIRED");
  }
  if (url.username !== "" || url.password !== "") {
    refuse(`webhook url for host ${hostForMessage(url)} must not contain a user name or password`, "USERINFO");
  }
  // A '#' can only survive in the serialised URL as the fragment delimiter (even an empty one).
  if (url.href.includes("#")) {
    refuse(`webhook url for host ${hostForMessage(url)} must not contain a fragment (#...)`, "FRAGMENT");
  }
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) {
    refuse(`webhook url is longer than ${MAX_WEBHOOK_URL_LENGTH} characters once normalised`, "TOO_LONG");
  }
  const hostname = bareHostname(url);
  if (hostname === "") refuse("webhook url has no host", "NO_HOST");
  if (url.port === "0") refuse(`webhook url for host ${hostForMessage(url)} has port 0`, "PORT");
  if (isIP(hostname) !== 0 && isBlockedAddress(hostname, policy.allowCidrs)) refuseHost(url.hostname);
  return url;
}

export interface ResolveOptions {
  /** Replaces `dns.promises.lookup(host, { all: true })`; tests use it to fake DNS answers. */
  lookup?: (hostname: string) => Promise<readonly { address: string; family: number }[]>;
  /** Give up on DNS after this long (getaddrinfo has no timeout of its own). Default 5 s. */
  lookupTimeoutMs?: number;
}

const DEFAULT_LOOKUP_TIMEOUT_MS = 5_000;

async function lookupAll(hostname: string, options: ResolveOptions): Promise<readonly { address: string; family: number }[]> {
  const lookup = options.lookup ?? ((host: string) => dns.lookup(host, { all: true, verbatim: true }));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("dns lookup timed out")), options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([lookup(hostname), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Full check for one delivery attempt (and for subscription creation): shape, DNS resolution,
 * and every resolved address. If ANY address is blocked the URL is refused (a host that answers
 * both a public and a private address is a rebinding attempt); otherwise the first address is
 * pinned and the attempt must connect to it. Throws HubError BAD_USER_INPUT.
 */
export async function resolveDeliverableUrl(raw: string, policy: UrlPolicy, options: ResolveOptions = {}): Promise<PinnedTarget> {
  const url = checkUrlShape(raw, policy);
  const hostname = bareHostname(url);
  const literalFamily = isIP(hostname);
  if (literalFamily === 4 || literalFamily === 6) {
    // checkUrlShape already judged the literal.
    return { url, address: hostname, family: literalFamily };
  }
  let answers: readonly { address: string; family: number }[];
  try {
    answers = await lookupAll(hostname, options);
  } catch {
    return refuseHost(hostname);
  }
  // A host that answers both a public and a private address is a rebinding attempt: refused too.
  if (answers.length === 0 || answers.some((answer) => isBlockedAddress(answer.address, policy.allowCidrs))) refuseHost(hostname);
  const first = answers[0]!;
  const family = isIP(first.address);
  if (family !== 4 && family !== 6) refuseHost(hostname);
  return { url, address: first.address, family };
}
