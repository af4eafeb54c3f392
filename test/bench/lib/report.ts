import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Row } from "./context.ts";
import { ROOT } from "./proc.ts";

function figure(value: number | null, unit: string): string {
  if (value === null) return "—";
  const text = value >= 100 ? Math.round(value).toLocaleString("en-US") : String(value);
  return `${text} ${unit}`;
}

function cells(row: Row): string[] {
  if (row.error) return [row.name, "error", "—", "—", row.target, "no"];
  const main = figure(row.value, row.unit) + (row.detail ? ` (${row.detail})` : "");
  const ceiling = row.ceiling === null ? "—" : figure(row.ceiling, row.unit) + (row.ceilingDetail ? ` (${row.ceilingDetail})` : "");
  const ratio = row.ratio === null ? "—" : `${row.ratio.toFixed(row.ratio < 1 ? 3 : 2)}×`;
  return [row.name, main, ceiling, ratio, row.target, row.met ? "yes" : "no"];
}

const HEADER = ["benchmark", "result", "ceiling (same run)", "ratio", "target", "met"];

export function formatRow(row: Row): string {
  const line = cells(row).join(" | ");
  const extra = row.error ? `\n    error: ${row.error}` : row.notes ? `\n    ${row.notes}` : "";
  return `${line}${extra}`;
}

export function formatTable(rows: Row[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  const out = [line(HEADER), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map((r) => line(cells(r)))];
  for (const row of rows) {
    if (row.error) out.push(`  ${row.name}: error: ${row.error}`);
    else if (row.notes) out.push(`  ${row.name}: ${row.notes}`);
  }
  return out.join("\n");
}

export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? "unknown",
    cpuCount: cpus.length,
    totalMemoryBytes: os.totalmem(),
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

export function writeResults(payload: Record<string, unknown>): string {
  const dir = path.join(ROOT, ".bench");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "results.json");
  fs.writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}
