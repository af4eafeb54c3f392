import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { issueCard } from "../../src/cards/card-issuing.ts";
import { makeV2023Number } from "../../src/card-numbers/card-number-generator.ts";
import { reportCardLost, revokeCard, setHolderStatus } from "../../src/cards/card-register.ts";
import { decodeCursor, encodeCursor, type ChangePage, type FeedReader } from "../../src/events/change-feed.ts";
import { HubError } from "../../src/errors.ts";
import { tempServices, TestClock } from "../helpers/temp-hub.ts";

const OLD = "CAN110081080319";
const NEW = "911124198108030024";
const OTHER = "932682198501010017";
const ALL: FeedReader = { seesAll: true, partnerId: null, canReadLineage: true };
const ALL_NO_LINEAGE: FeedReader = { seesAll: true, partnerId: null, canReadLineage: false };
const v2023 = (sequence: number) => makeV2023Number({ provinceCode: "31", nationalityNumeric: "392", birthDate: "1979-02-11", sequence });

let clock: TestClock;
let s: ReturnType<typeof tempServices>;

const issue = (number: string, extra: Record<string, unknown> = {}) =>
  issueCard(s.register, {
    number,
    ...(number.length === 15 ? { validFrom: "2016-05-10", validUntil: "2026-05-09" } : { validFrom: "2024-03-01", validUntil: "2034-02-28" }),
    englishName: "FEED, TEST",
    ...extra,
  });
const storedSequences = () => (s.db.$client.prepare("SELECT sequence FROM events ORDER BY sequence").all() as { sequence: number }[]).map((r) => r.sequence);

function rejects(code: string, call: () => unknown): void {
  let error: unknown;
  try { call(); } catch (e) { error = e; }
  expect(error).toBeInstanceOf(HubError);
  expect((error as HubError).code).toBe(code);
}

/** Follows endCursor until hasNextPage is false; returns every page. */
function allPages(reader: FeedReader, first: number, types?: string[]): ChangePage[] {
  const pages: ChangePage[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 1000; guard += 1) {
    const page = s.feed.page(reader, { after, first, types });
    pages.push(page);
    expect(page.edges.length).toBeLessThanOrEqual(first);
    if (!page.pageInfo.hasNextPage) return pages;
    expect(page.edges).toHaveLength(first);
    after = page.pageInfo.endCursor;
  }
  throw new Error("paging did not end");
}
const sequencesOf = (pages: ChangePage[]) => pages.flatMap((p) => p.edges.map((e) => e.node.sequence));

beforeEach(() => {
  clock = new TestClock();
  s = tempServices(clock);
  for (let i = 1; i <= 8; i += 1) {
    issue(v2023(i));
    clock.advance(1000);
  }
  issue(OTHER);
  revokeCard(s.register, v2023(2), "fraud");
  reportCardLost(s.register, v2023(3));
  issue(v2023(3), { issueCount: 1 });
  setHolderStatus(s.register, v2023(4), "CANCELLED");
  issue(OLD);
});
afterEach(() => {
  s.db.$client.close();
  fs.rmSync(path.dirname(s.file), { recursive: true, force: true });
});

describe("paging", () => {
  it.each([1, 3, 7, 14, 15, 1000])("with first=%i yields every sequence once, in order, without gaps", (first) => {
    const stored = storedSequences();
    expect(stored).toHaveLength(14);
    expect(stored).toEqual(stored.map((_, i) => stored[0] + i));
    const pages = allPages(ALL, first);
    expect(sequencesOf(pages)).toEqual(stored);
    expect(pages).toHaveLength(Math.max(1, Math.ceil(stored.length / first)));
    for (const page of pages) {
      page.edges.forEach((edge) => {
        expect(decodeCursor(edge.cursor)).toBe(edge.node.sequence);
        expect(edge.node.id).toBe(`evt_${edge.node.sequence}`);
      });
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)!.cursor);
    }
  });

  it("returns an empty page after the end, keeping the cursor, then picks up new events", () => {
    const end = s.feed.page(ALL, { first: 1000 }).pageInfo.endCursor!;
    expect(s.feed.page(ALL, { after: end })).toEqual({ edges: [], pageInfo: { endCursor: end, hasNextPage: false } });
    issue(NEW, { previousNumber: OLD });
    const next = s.feed.page(ALL, { after: end });
    expect(next.edges.map((e) => [e.node.type, e.node.cardNumber])).toEqual([["CARD_SUPERSEDED", OLD], ["CARD_ISSUED", NEW]]);
    expect(s.feed.page(ALL, {}).edges).toHaveLength(16); // default page size is 100
  });

  it("filters by type, across pages", () => {
    const types = ["CARD_REVOKED", "CARD_SUPERSEDED", "HOLDER_STATUS_CHANGED"];
    // (v2023(3)'s lost instance is not superseded by its re-issue, so no CARD_SUPERSEDED yet.)
    const nodes = allPages(ALL, 1, types).flatMap((p) => p.edges.map((e) => e.node));
    expect(nodes.map((n) => [n.type, n.cardNumber])).toEqual([
      ["CARD_REVOKED", v2023(2)],
      ["HOLDER_STATUS_CHANGED", v2023(4)],
    ]);
    expect(sequencesOf(allPages(ALL, 5, []))).toEqual(storedSequences());
    rejects("BAD_USER_INPUT", () => s.feed.page(ALL, { types: ["CARD_ISSUED", "CARD_EXPLODED"] }));
  });

  it("rejects cursors it did not make", () => {
    for (const after of ["garbage", encodeCursor(3).slice(0, -2), Buffer.from("seq:-1").toString("base64url"), Buffer.from("seq:1x").toString("base64url")]) {
      rejects("BAD_USER_INPUT", () => s.feed.page(ALL, { after }));
    }
    expect(s.feed.page(ALL, { after: encodeCursor(13) }).edges.map((e) => e.node.sequence)).toEqual([14]);
  });

  it.each([0, -1, 1001, 2.5])("rejects first=%s", (first) => {
    rejects("BAD_USER_INPUT", () => s.feed.page(ALL, { first }));
  });

  it("refuses a reader that is neither all-seeing nor a partner", () => {
    rejects("FORBIDDEN", () => s.feed.page({ seesAll: false, partnerId: null, canReadLineage: false }, {}));
  });
});

describe("partner readers", () => {
  it("see only events of watched numbers; with LINEAGE_READ the watch follows the V2017 → V2023 switch", () => {
    const partner = s.partners.create({ name: "Lakeside Hotel", industry: "ACCOMMODATION", provinceCode: "33" });
    const idle = s.partners.create({ name: "Idle Bank", industry: "BANKING" });
    expect(s.watchlist.watch({ keyId: "key_test", partnerId: partner.id }, [OLD, v2023(3)])).toBe(2);
    issue(NEW, { previousNumber: OLD });
    setHolderStatus(s.register, OLD, "NATURALIZED");
    revokeCard(s.register, OTHER, "not watched");
    const lineage: FeedReader = { seesAll: false, partnerId: partner.id, canReadLineage: true };
    const plain: FeedReader = { ...lineage, canReadLineage: false };
    const listed = (reader: FeedReader) => allPages(reader, 2).flatMap((p) => p.edges.map((e) => e.node));
    const renewals = [`CARD_ISSUED ${v2023(3)}/0`, `CARD_REPORTED_LOST ${v2023(3)}/0`, `CARD_ISSUED ${v2023(3)}/1`];
    const nodes = listed(lineage);
    expect(nodes.map((n) => `${n.type} ${n.cardNumber}/${n.issueCount}`)).toEqual([
      ...renewals,
      `CARD_ISSUED ${OLD}/0`,
      `CARD_SUPERSEDED ${OLD}/0`,
      `CARD_ISSUED ${NEW}/0`,
      `HOLDER_STATUS_CHANGED ${NEW}/0`,
    ]);
    const seqs = nodes.map((n) => n.sequence);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // Without LINEAGE_READ: renewals and the old card's supersession, nothing of the new number.
    expect(listed(plain).map((n) => `${n.type} ${n.cardNumber}/${n.issueCount}`)).toEqual([...renewals, `CARD_ISSUED ${OLD}/0`, `CARD_SUPERSEDED ${OLD}/0`]);
    expect(listed(plain).find((n) => n.type === "CARD_SUPERSEDED")!.data).not.toHaveProperty("currentNumber");
    expect(s.feed.page({ seesAll: false, partnerId: idle.id, canReadLineage: true }, {}).edges).toEqual([]);
    expect(s.feed.page(lineage, { types: ["HOLDER_STATUS_CHANGED"] }).edges.map((e) => e.node.cardNumber)).toEqual([NEW]);
    expect(s.feed.page(plain, { types: ["HOLDER_STATUS_CHANGED"] }).edges).toEqual([]);
  });
});

describe("lineage in event data", () => {
  it("is stripped without canReadLineage and present with it", () => {
    issue(NEW, { previousNumber: OLD });
    const [superseded, issued] = s.feed.page(ALL, { after: encodeCursor(14) }).edges.map((e) => e.node);
    expect(superseded.data).toMatchObject({ cardNumber: OLD, version: "V2017", state: "SUPERSEDED", previousState: "VALID", currentNumber: NEW, sequence: 15 });
    expect(issued.data).toMatchObject({ cardNumber: NEW, previousNumber: OLD, currentNumber: NEW, state: "VALID", previousState: null });
    const stripped = s.feed.page(ALL_NO_LINEAGE, { after: encodeCursor(14) }).edges.map((e) => e.node.data);
    expect(stripped[0]).toMatchObject({ cardNumber: OLD, state: "SUPERSEDED", holderStatus: "ACTIVE", sequence: 15 });
    for (const data of stripped) {
      expect(data).not.toHaveProperty("previousNumber");
      expect(data).not.toHaveProperty("currentNumber");
    }
    // Stripping is per read: the stored event keeps its lineage.
    expect(s.feed.page(ALL, { after: encodeCursor(15) }).edges[0].node.data).toMatchObject({ previousNumber: OLD });
  });
});
