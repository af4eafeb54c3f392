import { HubError } from "../errors.ts";
import { parseCardNumber, type ParsedCardNumber } from "../card-numbers/card-number.ts";
import type { CardQueries } from "./card-queries.ts";
import { chinaToday } from "../china-date.ts";
import { checkResultOf, toCardView, type CardRecord, type CardView, type CheckResult } from "./card-state.ts";
import { requireIssueCount } from "./card-rules.ts";
import type { AuditLog } from "../partners/audit-log.ts";
import type { Viewer } from "../partners/roles.ts";

export const MAX_BATCH_CHECKS = 1000;

export interface CardCheckView {
  input: string;
  number: string | null;
  issueCount: number | null;
  latestIssueCount: number | null;
  result: CheckResult;
  recognized: boolean;
  card: CardView | null;
  parse: ParsedCardNumber;
  checkedAt: string;
}

/** The read side partners use: answers from the current state, expiry derived at read time. */
export class CardLookup {
  constructor(
    private readonly queries: CardQueries,
    private readonly now: () => Date = () => new Date(),
    private readonly audit: AuditLog | null = null,
  ) {}

  /** Every answer is audited (buffered: no write on the lookup's path). */
  private audited(check: CardCheckView, viewer: Viewer): CardCheckView {
    this.audit?.record({
      kind: "CHECK",
      keyId: viewer.keyId ?? null,
      partnerId: viewer.partnerId ?? null,
      number: check.parse.valid ? check.number : null,
      version: check.parse.version,
      result: check.result,
    });
    return check;
  }

  checkCard(input: string, issueCountInput: number | null | undefined, viewer: Viewer): CardCheckView {
    return this.audited(this.checkUnaudited(input, issueCountInput, viewer), viewer);
  }

  /** A check whose caller writes its own audit record (verification). */
  checkUnaudited(input: string, issueCountInput: number | null | undefined, viewer: Viewer): CardCheckView {
    const issueCount = requireIssueCount(issueCountInput);
    const now = this.now();
    const parse = parseCardNumber(input, now);
    const instances = parse.valid ? this.queries.instancesOf(parse.normalized!) : [];
    return buildCheck(parse, instances, issueCount, viewer, chinaToday(now), now.toISOString());
  }

  /** Checks up to 1,000 numbers with one query; answers in input order, one per input. */
  checkCards(inputs: string[], viewer: Viewer): CardCheckView[] {
    if (inputs.length > MAX_BATCH_CHECKS) {
      throw new HubError("BAD_USER_INPUT", `checkCards takes at most ${MAX_BATCH_CHECKS} numbers, got ${inputs.length}`, {
        field: "numbers",
      });
    }
    this.audit?.requireRoom(inputs.length); // the batch is answered (and audited) whole, or refused
    const now = this.now();
    const parses = inputs.map((input) => parseCardNumber(input, now));
    const wanted = [...new Set(parses.filter((p) => p.valid).map((p) => p.normalized!))];
    const found = this.queries.instancesOfMany(wanted);
    const today = chinaToday(now);
    const checkedAt = now.toISOString();
    return parses.map((parse) => this.audited(buildCheck(parse, found.get(parse.normalized ?? "") ?? [], undefined, viewer, today, checkedAt), viewer));
  }
}

function buildCheck(
  parse: ParsedCardNumber,
  instances: CardRecord[],
  issueCount: number | undefined,
  viewer: Viewer,
  today: string,
  checkedAt: string,
): CardCheckView {
  const latest = instances[0];
  const card = issueCount === undefined ? latest : instances.find((c) => c.issueCount === issueCount);
  const result: CheckResult = !parse.valid ? "MALFORMED" : card ? checkResultOf(card, today) : "NOT_FOUND";
  return {
    input: parse.input,
    number: parse.normalized,
    issueCount: card?.issueCount ?? issueCount ?? null,
    latestIssueCount: latest?.issueCount ?? null,
    result,
    recognized: result === "VALID",
    card: card ? toCardView(card, today, viewer.canReadLineage) : null,
    parse,
    checkedAt,
  };
}
