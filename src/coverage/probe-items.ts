import crypto from "node:crypto";
import { makeV2017Number, makeV2023Number } from "../card-numbers/card-number-generator.ts";
import { computeV2023CheckCharacter } from "../card-numbers/card-number.ts";

/** How a partner's system must classify each probe number. */
type ProbeClass = "V2023" | "V2017" | "MALFORMED" | "NOT_FPR" | "REJECTED";

export interface ProbeItem {
  id: string;
  number: string;
  issueCount?: number;
  /** What the item tests, for the detail shown to operators. */
  about: string;
  expected: ProbeClass;
}

const toFullWidth = (text: string) => text.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));

function withCheck(first17: string): string {
  return first17 + computeV2023CheckCharacter(first17);
}

function randomSequence(): number {
  return crypto.randomInt(0, 1000);
}

/** A V2023 number whose check character is X (so its lower-case form tests normalization). */
function v2023EndingInX(): string {
  for (;;) {
    const number = makeV2023Number({ provinceCode: "31", nationalityNumeric: "410", birthDate: "1988-05-17", sequence: randomSequence() });
    if (number.endsWith("X")) return number;
  }
}

/**
 * Synthetic numbers (fresh each run, so answers cannot be hard-coded) plus, when the register
 * has one, a lost instance and its replacement, which only a system that asks the hub with the
 * chip's issue count can tell apart.
 */
export function probeItems(lost: { number: string; lostIssue: number; validIssue: number } | null): ProbeItem[] {
  const v2023 = makeV2023Number({ provinceCode: "44", nationalityNumeric: "124", birthDate: "1979-11-02", sequence: randomSequence() });
  const badCheck = v2023.slice(0, 17) + (v2023[17] === "0" ? "1" : "0");
  const items: Omit<ProbeItem, "id">[] = [
    { number: v2023, about: "well-formed V2023 number", expected: "V2023" },
    { number: makeV2017Number({ nationalityAlpha3: "USA", acceptanceCode: "1100", birthDate: "1975-06-30", sequence: crypto.randomInt(0, 10), checkDigit: crypto.randomInt(0, 10) }), about: "well-formed V2017 number", expected: "V2017" },
    { number: badCheck, about: "V2023 number with a wrong check character", expected: "MALFORMED" },
    { number: withCheck(`11010119900307${String(randomSequence()).padStart(3, "0")}`), about: "Chinese citizen ID number", expected: "NOT_FPR" },
    { number: withCheck(`81000019920214${String(randomSequence()).padStart(3, "0")}`), about: "Hong Kong residence permit number", expected: "NOT_FPR" },
    { number: v2023EndingInX().toLowerCase(), about: "V2023 number typed with a lower-case x", expected: "V2023" },
    { number: toFullWidth(v2023), about: "V2023 number in full-width digits", expected: "V2023" },
  ];
  if (lost) {
    items.push({ number: lost.number, issueCount: lost.lostIssue, about: "lost card instance (by issue count)", expected: "REJECTED" });
    items.push({ number: lost.number, issueCount: lost.validIssue, about: "its valid replacement (same number, higher issue count)", expected: "V2023" });
  }
  return items.map((item, i) => ({ id: `p${i + 1}`, ...item }));
}
