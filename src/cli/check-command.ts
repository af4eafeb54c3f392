import { HubError } from "../errors.ts";
import type { HubServices } from "../app/services.ts";

/** `fpr-hub check`: the same check partners get, with lineage (an operator's view). */
export function runCheck(services: HubServices, number: string, opts: { issueCount?: string; json?: boolean }): void {
  let issueCount: number | undefined;
  if (opts.issueCount !== undefined) {
    if (!/^\d{1,2}$/.test(opts.issueCount)) throw new HubError("BAD_USER_INPUT", "--issue-count must be a whole number from 0 to 99");
    issueCount = Number(opts.issueCount);
  }
  const check = services.lookup.checkCard(number, issueCount, { canReadLineage: true });
  // Operators' checks are audited too; this process exits right after, so an unwritten record refuses the answer.
  services.audit.flushOrRefuse();
  if (opts.json) {
    console.log(JSON.stringify(check, null, 2));
    return;
  }
  console.log(`${check.number ?? "(empty)"}: ${check.result}${check.recognized ? " (recognized)" : ""}`);
  const p = check.parse;
  if (p.valid) {
    console.log(`  ${p.version}  nationality ${p.nationality?.name} (${p.nationality?.alpha3})  province ${p.province?.name}  born ${p.birthDate}`);
  }
  for (const error of p.errors) console.log(`  ${error.code}: ${error.message}`);
  const card = check.card;
  if (card) {
    console.log(`  issue ${card.issueCount} of ${check.latestIssueCount}  ${card.state}  valid ${card.validFrom} to ${card.validUntil}  holder ${card.holderStatus}`);
    if (card.previousNumber) console.log(`  previous number ${card.previousNumber}`);
    if (card.currentNumber) console.log(`  holder's current number ${card.currentNumber}`);
  }
}
