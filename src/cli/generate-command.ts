import fs from "node:fs";
import { once } from "node:events";
import type { Writable } from "node:stream";
import { chinaToday } from "../china-date.ts";
import { HubError } from "../errors.ts";
import { csvHeader, syntheticRecords, toCsvLine } from "../demo/synthetic-file.ts";

export interface GenerateOptions {
  cards: string;
  seed?: string;
  asOf?: string;
  format?: string;
  out?: string;
}

function wholeNumber(value: string, name: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) > max) throw new HubError("BAD_USER_INPUT", `${name} must be a whole number up to ${max}`);
  return Number(value);
}

/** `fpr-hub generate`: a synthetic register file, deterministic for a seed and an as-of date. */
export async function runGenerate(options: GenerateOptions): Promise<void> {
  const cards = wholeNumber(options.cards, "--cards", 50_000_000);
  const seed = wholeNumber(options.seed ?? "1", "--seed", 2 ** 32 - 1);
  const asOf = options.asOf ?? chinaToday(new Date());
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || asOf < "2023-12-01") throw new HubError("BAD_USER_INPUT", "--as-of must be a date YYYY-MM-DD from 2023-12-01");
  const format = options.format ?? (options.out?.endsWith(".csv") ? "csv" : "ndjson");
  if (format !== "csv" && format !== "ndjson") throw new HubError("BAD_USER_INPUT", "--format must be ndjson or csv");
  const out: Writable = options.out ? fs.createWriteStream(options.out) : process.stdout;
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, "drain");
  };
  if (format === "csv") await write(csvHeader());
  for (const record of syntheticRecords({ cards, seed, asOf })) await write(format === "csv" ? toCsvLine(record) : JSON.stringify(record));
  if (options.out) await new Promise<void>((resolve) => out.end(resolve));
}
