// Small DOM and formatting helpers. Text always goes in through textContent, never as HTML,
// so partner names and typed card numbers cannot inject markup.

/** Creates an element: attributes (data-*, class, …) and children (nodes or text). */
export function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of [children].flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function byTestId(id) {
  return document.querySelector(`[data-testid="${id}"]`);
}

export const DASH = "—";

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
const fixedDecimal = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export function formatInt(value) {
  return value === null || value === undefined ? DASH : integer.format(value);
}

/** A 0–1 ratio as a percentage with one decimal. */
export function formatPercent(ratio) {
  return ratio === null || ratio === undefined ? DASH : `${fixedDecimal.format(ratio * 100)}%`;
}

export function formatMs(value) {
  return value === null || value === undefined ? DASH : oneDecimal.format(value);
}

/** "2024-06-17" → "17 Jun 24" (dates in China, shown as given). */
export function formatWeek(date) {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "2-digit", timeZone: "UTC" });
}

export function ratioOf(part, whole) {
  return whole > 0 ? part / whole : null;
}

/**
 * Fills a table with a header row and body rows (replacing what it held). Each body cell is
 * labelled with its column, so narrow screens can show rows as stacked cards; explicit roles
 * keep the table semantics when CSS changes the cells' display.
 */
export function fillTable(table, headers, rows, emptyText) {
  table.setAttribute("role", "table");
  const head = el("thead", {}, el("tr", { role: "row" }, headers.map((h) => el("th", { scope: "col", role: "columnheader", class: h.numeric ? "num" : null }, h.label))));
  for (const row of rows) {
    row.setAttribute("role", "row");
    [...row.children].forEach((cell, i) => {
      cell.setAttribute("role", cell.tagName === "TH" ? "rowheader" : "cell");
      if (headers[i]) cell.setAttribute("data-label", headers[i].label);
    });
  }
  const body = el("tbody", {}, rows.length > 0 ? rows : el("tr", { class: "empty", role: "row" }, el("td", { colspan: headers.length, role: "cell" }, emptyText)));
  table.replaceChildren(head, body);
}

/** A numeric cell carrying its field name, so tests and scripts can read figures back. */
export function numberCell(field, text) {
  return el("td", { class: "num", "data-field": field }, text);
}
