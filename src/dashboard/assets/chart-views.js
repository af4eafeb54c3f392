// The three charts, drawn with Chart.js (served by the hub as /dashboard/chart.js, a global).
import { formatInt, formatPercent, formatWeek, ratioOf } from "./dom.js";
import { LEVEL_LABELS, LEVELS, withNone } from "./tables.js";

const COLORS = { verified: "#1a7f4b", observed: "#2b6cb0", declared: "#d69e2e", none: "#cbd2d9" };
const LINE = "#2b6cb0";
const charts = new Map();

function chartLibrary() {
  return typeof window.Chart === "function" ? window.Chart : null;
}

function configureDefaults(Chart) {
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = "#3e4c59";
  Chart.defaults.animation = window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : { duration: 300 };
}

function draw(name, config) {
  const Chart = chartLibrary();
  const box = document.querySelector(`[data-chart="${name}"]`);
  if (!Chart || !box) return;
  charts.get(name)?.destroy();
  charts.set(name, new Chart(box.querySelector("canvas"), config));
}

export function destroyCharts() {
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
}

/** True when Chart.js loaded; otherwise the tables under each chart carry the figures alone. */
export function chartsAvailable() {
  const Chart = chartLibrary();
  if (Chart) configureDefaults(Chart);
  return Chart !== null;
}

/** Stacked horizontal bars, one per group, split by evidence level; height follows the rows. */
export function drawCoverage(name, rows) {
  const box = document.querySelector(`[data-chart="${name}"]`);
  box.style.height = `${Math.max(140, rows.length * 30 + 64)}px`;
  const full = rows.map(withNone);
  draw(name, {
    type: "bar",
    data: {
      labels: full.map((r) => r.label),
      datasets: LEVELS.map((level) => ({
        label: LEVEL_LABELS[level],
        data: full.map((r) => r[level]),
        backgroundColor: COLORS[level],
        borderWidth: 0,
        barPercentage: 0.8,
        categoryPercentage: 0.9,
      })),
    },
    options: {
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { position: "top", align: "start", labels: { boxWidth: 12, boxHeight: 12 } } },
      scales: {
        x: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Partners" } },
        y: { stacked: true, grid: { display: false } },
      },
    },
  });
}

/** One line: the share of active holders on V2023 per week; counts in the tooltip. */
export function drawTimeline(points) {
  const shares = points.map((p) => {
    const share = ratioOf(p.onV2023, p.activeHolders);
    return share === null ? null : Math.round(share * 1000) / 10;
  });
  draw("timeline", {
    type: "line",
    data: {
      labels: points.map((p) => formatWeek(p.periodStart)),
      datasets: [{ label: "Share on V2023", data: shares, borderColor: LINE, backgroundColor: "rgba(43, 108, 176, 0.12)", fill: true, pointRadius: 0, pointHitRadius: 8, tension: 0.2, borderWidth: 2 }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: (item) => {
              const p = points[item.dataIndex];
              return `${formatPercent(ratioOf(p.onV2023, p.activeHolders))}: ${formatInt(p.onV2023)} of ${formatInt(p.activeHolders)} holders`;
            },
          },
        },
      },
      scales: {
        x: { ticks: { maxTicksLimit: 7, maxRotation: 0 }, grid: { display: false } },
        y: { beginAtZero: true, suggestedMax: 10, ticks: { callback: (v) => `${v}%` } },
      },
    },
  });
}
