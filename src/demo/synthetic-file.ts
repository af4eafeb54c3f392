import { syntheticHolders, type RegisterOperation } from "./synthetic-register.ts";
import { RECORD_FIELDS } from "../imports/import-record.ts";

export type RecordObject = Record<string, string | number>;

/** Folds one holder's operations into import records: one per card instance, states attached. */
function recordsOf(operations: RegisterOperation[]): RecordObject[] {
  const records: RecordObject[] = [];
  const latest = (number: string) => records.findLast((r) => r.number === number)!;
  for (const op of operations) {
    if (op.kind === "issue") {
      const { number, issueCount, validFrom, validUntil, previousNumber, englishName, chineseName, sex } = op.input;
      records.push(
        Object.fromEntries(
          Object.entries({ number, issueCount: issueCount ?? 0, validFrom, validUntil, previousNumber, englishName, chineseName, sex }).filter(([, v]) => v !== undefined && v !== null),
        ) as RecordObject,
      );
    } else if (op.kind === "lost") {
      records.find((r) => r.number === op.number && r.issueCount === op.issueCount)!.state = "REPORTED_LOST";
    } else if (op.kind === "revoke") {
      Object.assign(latest(op.number), { state: "REVOKED", revocationReason: op.reason });
    } else {
      latest(op.number).holderStatus = op.status;
    }
  }
  return records;
}

/**
 * A deterministic synthetic register of `cards` card instances (both versions, switches,
 * re-issues after loss, lost, revoked, expired, inactive holders), as import records.
 */
export function* syntheticRecords(options: { cards: number; seed: number; asOf: string }): Generator<RecordObject> {
  let emitted = 0;
  for (const holder of syntheticHolders({ holders: Infinity, seed: options.seed, asOf: options.asOf })) {
    for (const record of recordsOf(holder)) {
      if (emitted === options.cards) return;
      emitted += 1;
      yield record;
    }
  }
}

function csvCell(value: string | number | undefined): string {
  if (value === undefined) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvHeader(): string {
  return RECORD_FIELDS.join(",");
}

export function toCsvLine(record: RecordObject): string {
  return RECORD_FIELDS.map((field) => csvCell(record[field])).join(",");
}
