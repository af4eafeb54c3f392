/**
 * Lineage check for a holder switching from a V2017 card to a V2023 number: the alpha-3 nationality
 * becomes its numeric code and the birth date gains its century, so both must agree. The province
 * may differ (the holder may have moved).
 */
import type { ParsedCardNumber } from "./card-number.ts";

export interface LineageCheck {
  consistent: boolean;
  reasons: string[];
}

function describe(p: ParsedCardNumber): string {
  return p.normalized === null ? "(empty)" : p.normalized;
}

export function checkLineage(previous: ParsedCardNumber, next: ParsedCardNumber): LineageCheck {
  const reasons: string[] = [];

  if (previous.version !== "V2017") {
    reasons.push(`The previous number ${describe(previous)} is not a 2017-format (15-character) card number.`);
  } else if (!previous.valid) {
    reasons.push(
      `The previous number ${describe(previous)} is not valid (${previous.errors.map((e) => e.code).join(", ")}).`,
    );
  }
  if (next.version !== "V2023") {
    reasons.push(`The new number ${describe(next)} is not a 2023-format (18-character) card number.`);
  } else if (!next.valid) {
    reasons.push(`The new number ${describe(next)} is not valid (${next.errors.map((e) => e.code).join(", ")}).`);
  }

  // Compare whatever both sides decoded, even when one is otherwise invalid, so every problem is listed.
  if (previous.nationality !== null && next.nationality !== null && previous.nationality.alpha3 !== next.nationality.alpha3) {
    reasons.push(
      `Nationality differs: ${previous.nationality.alpha3} (${previous.nationality.name}) on the previous card, ` +
        `${next.nationality.numeric} = ${next.nationality.alpha3} (${next.nationality.name}) on the new one.`,
    );
  }
  if (previous.birthDate !== null && next.birthDate !== null && previous.birthDate !== next.birthDate) {
    reasons.push(`Birth date differs: ${previous.birthDate} on the previous card, ${next.birthDate} on the new one.`);
  }

  return { consistent: reasons.length === 0, reasons };
}
