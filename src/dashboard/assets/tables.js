// Headline figures and tables. Every figure carries data-testid / data-field attributes.
import { byTestId, DASH, el, fillTable, formatInt, formatMs, formatPercent, formatWeek, numberCell, ratioOf } from "./dom.js";

export const LEVELS = ["verified", "observed", "declared", "none"];
export const LEVEL_LABELS = { verified: "Verified", observed: "Observed", declared: "Declared", none: "None" };

const INDUSTRY_LABELS = {
  ACCOMMODATION: "Accommodation", RAIL: "Rail", AVIATION: "Aviation", SHIPPING: "Shipping", BANKING: "Banking",
  PAYMENTS: "Payments", TELECOM: "Telecom", ONLINE_SERVICES: "Online services", GOVERNMENT: "Government", OTHER: "Other",
};

/** Partners with no evidence at all: what the hub's row does not count itself. */
export function withNone(row) {
  return { ...row, none: Math.max(0, row.partners - row.declared - row.observed - row.verified) };
}

function badge(text, tone, testId) {
  return el("span", { class: `badge ${tone}`, "data-testid": testId }, text);
}

export function renderHeadline(total, coverageRows, partners) {
  const row = total[0] ?? { activeHolders: 0, onV2023: 0, ratio: 0 };
  byTestId("total-active").textContent = formatInt(row.activeHolders);
  byTestId("total-onv2023").textContent = formatInt(row.onV2023);
  byTestId("total-ratio").textContent = formatPercent(row.ratio);
  byTestId("total-meter").style.width = `${Math.min(100, Math.max(0, row.ratio * 100))}%`;
  const evidence = coverageRows.reduce((sum, r) => sum + r.observed + r.verified, 0);
  byTestId("partners-evidence").textContent = formatInt(evidence);
  byTestId("partners-count").textContent = formatInt(partners.length);
}

export function renderCoverageTable(table, rows, rowTestId, groupLabel) {
  const headers = [{ label: groupLabel }, { label: "Partners", numeric: true }, ...LEVELS.map((l) => ({ label: LEVEL_LABELS[l], numeric: true })), { label: "With evidence", numeric: true }];
  const body = rows.map(withNone).map((row) =>
    el("tr", { "data-testid": rowTestId, "data-key": row.key }, [
      el("th", { scope: "row", "data-field": "label" }, row.label),
      numberCell("partners", formatInt(row.partners)),
      ...LEVELS.map((level) => numberCell(level, formatInt(row[level]))),
      numberCell("ratio", formatPercent(row.ratio)),
    ]),
  );
  fillTable(table, headers, body, "No partners yet.");
}

export function renderTimelineTable(points) {
  const headers = [{ label: "Week starting" }, { label: "Active holders", numeric: true }, { label: "On V2023", numeric: true }, { label: "Share", numeric: true }];
  const body = points.map((p) =>
    el("tr", { "data-testid": "timeline-row", "data-week": p.periodStart }, [
      el("th", { scope: "row" }, el("time", { datetime: p.periodStart }, formatWeek(p.periodStart))),
      numberCell("activeHolders", formatInt(p.activeHolders)),
      numberCell("onV2023", formatInt(p.onV2023)),
      numberCell("share", formatPercent(ratioOf(p.onV2023, p.activeHolders))),
    ]),
  );
  fillTable(byTestId("timeline-table"), headers, body, "No weeks to show.");
}

export function renderNationalities(rows) {
  const headers = [{ label: "Nationality" }, { label: "Holders", numeric: true }, { label: "On V2023", numeric: true }, { label: "Share", numeric: true }];
  const body = rows.slice(0, 10).map((row) =>
    el("tr", { "data-testid": "nationality-row", "data-key": row.key }, [
      el("th", { scope: "row", "data-field": "label" }, row.label),
      numberCell("activeHolders", formatInt(row.activeHolders)),
      numberCell("onV2023", formatInt(row.onV2023)),
      numberCell("ratio", formatPercent(row.ratio)),
    ]),
  );
  fillTable(byTestId("nationality-table"), headers, body, "No active holders yet.");
}

const STATUS_TONES = { ACTIVE: "ok", PAUSED: "warn", DISABLED: "bad" };
const BREAKER_TONES = { CLOSED: "ok", PROBING: "warn", PARKED: "bad" };

export function renderHealth(rows) {
  const headers = ["Partner", "Status", "Breaker", "Delivered", "Failed", "Success", "p50 ms", "p99 ms"].map((label, i) => ({ label, numeric: i >= 3 }));
  const body = rows.map((row) => {
    const attempted = row.delivered + row.failed > 0;
    return el("tr", { "data-testid": "health-row", "data-subscription": row.subscriptionId }, [
      el("th", { scope: "row", "data-field": "partnerName" }, [row.partnerName, el("span", { class: "muted id" }, row.subscriptionId)]),
      el("td", { "data-field": "status" }, badge(row.status, STATUS_TONES[row.status] ?? "neutral")),
      // A parked endpoint gets nothing until its park ends (then one probe): the time is in the tooltip.
      el("td", { "data-field": "breaker", title: row.parkedUntil ? `parked until ${row.parkedUntil}` : null }, badge(row.breaker, BREAKER_TONES[row.breaker] ?? "neutral")),
      numberCell("delivered", formatInt(row.delivered)),
      numberCell("failed", formatInt(row.failed)),
      // The hub reports 0 before any attempt; that is "no data", not "all failed".
      numberCell("successRatio", attempted ? formatPercent(row.successRatio) : DASH),
      numberCell("p50LatencyMs", formatMs(row.p50LatencyMs)),
      numberCell("p99LatencyMs", formatMs(row.p99LatencyMs)),
    ]);
  });
  fillTable(byTestId("health-table"), headers, body, "No webhook subscriptions yet.");
}

const LEVEL_TONES = { VERIFIED: "ok", OBSERVED: "info", DECLARED: "warn", NONE: "neutral" };

export function renderPartners(partners) {
  const headers = ["Partner", "Industry", "Province", "Adaptation", "Declared"].map((label) => ({ label }));
  const body = partners.map((p) =>
    el("tr", { "data-testid": "partner-row", "data-id": p.id }, [
      el("th", { scope: "row", "data-field": "name" }, p.name),
      el("td", { "data-field": "industry" }, INDUSTRY_LABELS[p.industry] ?? p.industry),
      el("td", { "data-field": "province" }, p.province?.name ?? "Nationwide"),
      el("td", { "data-field": "level" }, badge(p.adaptation.level, LEVEL_TONES[p.adaptation.level] ?? "neutral")),
      el("td", { "data-field": "declared" }, p.adaptation.declared.replace("_", " ").toLowerCase()),
    ]),
  );
  fillTable(byTestId("partners-table"), headers, body, "No partners yet.");
}
