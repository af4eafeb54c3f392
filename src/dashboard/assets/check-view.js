// The search box: checkCard for the answer, parseCardNumber for what is wrong with a number.
import { byTestId, DASH, el } from "./dom.js";
import { gql } from "./hub-api.js";

const CHECK = `query DashboardCheck($number: String!) {
  checkCard(number: $number) {
    result recognized number issueCount latestIssueCount
    card { version state holderStatus validFrom validUntil issueCount }
  }
}`;

const PARSE = `query DashboardParse($number: String!) {
  parseCardNumber(number: $number) { valid version normalized errors { code message } }
}`;

const EXPLANATIONS = {
  VALID: "A valid card of an active holder: accept it.",
  EXPIRED: "The card is past its last day of validity.",
  HOLDER_INACTIVE: "The card is valid but the holder's permanent residence is not active.",
  MALFORMED: "Not a well-formed FPR card number.",
  NOT_FOUND: "A well-formed number that is not on the register.",
  REPORTED_LOST: "The card was reported lost.",
  REVOKED: "The card was cancelled by the authority.",
  SUPERSEDED: "A newer card replaces this one; ask the holder for it.",
};

let latestRequest = 0;

function field(label, testId, value) {
  return el("div", { class: "fact" }, [el("dt", {}, label), el("dd", { "data-testid": testId }, value ?? DASH)]);
}

function issueText(check) {
  if (check.issueCount === null || check.issueCount === undefined) return DASH;
  const latest = check.latestIssueCount;
  return latest !== null && latest !== undefined && latest !== check.issueCount ? `${check.issueCount} (latest ${latest})` : String(check.issueCount);
}

function renderErrors(parsed) {
  if (!parsed || parsed.errors.length === 0) return null;
  return el("ul", { class: "parse-errors", "data-testid": "check-errors" },
    parsed.errors.map((e) => el("li", { "data-code": e.code }, [el("code", {}, e.code), " ", e.message])));
}

function renderCheck(number, check, checkError, parsed) {
  const box = byTestId("check-result");
  const result = check?.result ?? (parsed && !parsed.valid ? "MALFORMED" : null);
  const card = check?.card ?? null;
  const children = [
    el("div", { class: "check-head" }, [
      result
        ? el("span", { class: `badge big ${result === "VALID" ? "ok" : result === "NOT_FOUND" || result === "MALFORMED" ? "neutral" : "bad"}`, "data-testid": "check-result-code" }, result)
        : null,
      el("span", { class: "check-number", "data-testid": "check-number" }, check?.number ?? parsed?.normalized ?? number),
    ]),
    result ? el("p", { class: "explain" }, EXPLANATIONS[result] ?? "") : null,
    checkError ? el("p", { class: "message error", role: "alert", "data-testid": "check-error" }, checkError.message) : null,
    check
      ? el("dl", { class: "facts" }, [
          field("Recognized", "check-recognized", check.recognized ? "Yes" : "No"),
          field("Version", "check-version", card?.version ?? parsed?.version),
          field("Valid", "check-validity", card ? `${card.validFrom} to ${card.validUntil}` : null),
          field("Holder status", "check-holder-status", card?.holderStatus),
          field("Card state", "check-state", card?.state),
          field("Issue count", "check-issue", issueText(check)),
        ])
      : null,
    renderErrors(parsed),
  ];
  box.replaceChildren(...children.filter(Boolean));
  box.dataset.number = number;
  if (result) box.dataset.result = result;
  else delete box.dataset.result;
  box.hidden = false;
}

function settle(promise) {
  return promise.then((value) => ({ value }), (error) => ({ error }));
}

/** Checks one typed number; a newer search overtakes an older one still in flight. */
export async function checkNumber(number, onAuthError) {
  const box = byTestId("check-result");
  const request = ++latestRequest;
  box.setAttribute("aria-busy", "true");
  const [check, parse] = await Promise.all([settle(gql(CHECK, { number })), settle(gql(PARSE, { number }))]);
  if (request !== latestRequest) return;
  box.removeAttribute("aria-busy");
  const error = check.error ?? null;
  if (error?.code === "UNAUTHENTICATED") {
    onAuthError(error);
    return;
  }
  renderCheck(number, check.value?.checkCard ?? null, error, parse.value?.parseCardNumber ?? null);
}

export function clearCheck() {
  latestRequest += 1;
  const box = byTestId("check-result");
  box.replaceChildren();
  box.hidden = true;
  delete box.dataset.result;
  delete box.dataset.number;
}
