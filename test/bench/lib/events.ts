import path from "node:path";
import Database from "better-sqlite3";
import { makeV2023Number } from "../../../src/card-numbers/card-number-generator.ts";

/** `count` new V2023 cards (birth dates in 1941, far from the synthetic register) as NDJSON lines. */
export function newCardLines(count: number, offset = 0): { lines: string; numbers: string[] } {
  const numbers: string[] = [];
  for (let i = offset; i < offset + count; i++) {
    const day = new Date(Date.UTC(1941, 0, 1 + Math.floor(i / 1000))).toISOString().slice(0, 10);
    numbers.push(makeV2023Number({ provinceCode: "11", nationalityNumeric: "124", birthDate: day, sequence: i % 1000 }));
  }
  const lines = numbers.map((number) => JSON.stringify({ number, issueCount: 0, validFrom: "2025-01-10", validUntil: "2035-01-09", englishName: "BENCH, FANOUT" }));
  return { lines: `${lines.join("\n")}\n`, numbers };
}

/** Reads the event log of a DATA_DIR (read-only): events after `sequence`, and the first one's time. */
export function eventsAfter(dataDir: string, sequence: number): { count: number; maxSequence: number; firstAt: number | null } {
  const db = new Database(path.join(dataDir, "fpr-hub.sqlite"), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT count(*) AS n, max(sequence) AS max, min(occurred_at) AS first FROM events WHERE sequence > ?").get(sequence) as {
      n: number;
      max: number | null;
      first: string | null;
    };
    return { count: row.n, maxSequence: row.max ?? sequence, firstAt: row.first ? Date.parse(row.first) : null };
  } finally {
    db.close();
  }
}
