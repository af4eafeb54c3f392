import type { IssueCardData } from "../cards/card-issuing.ts";
import { makeV2017Number, makeV2023Number } from "../card-numbers/card-number-generator.ts";
import type { HolderStatus } from "../cards/card-state.ts";
import { ALL_COUNTRIES, findCountryByAlpha3, type Country } from "../card-numbers/countries.ts";
import { V2023_LAUNCH } from "../cards/card-rules.ts";
import { addDays } from "../china-date.ts";

/** One step of a synthetic register, applied through the same service code as real changes. */
export type RegisterOperation =
  | { kind: "issue"; input: IssueCardData }
  | { kind: "lost"; number: string; issueCount: number }
  | { kind: "revoke"; number: string; reason: string }
  | { kind: "holder"; number: string; status: HolderStatus };

/** Deterministic PRNG (mulberry32): the same seed gives the same register. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Rough shape of China's permanent-resident population: a few nationalities and provinces dominate.
const COMMON_NATIONALITIES = ["KOR", "USA", "JPN", "CAN", "DEU", "FRA", "GBR", "AUS", "RUS", "SGP", "PAK", "IND", "MYS", "ITA", "PHL"];
const PROVINCE_WEIGHTS: [string, number][] = [
  ["11", 18], ["31", 18], ["44", 16], ["32", 8], ["33", 7], ["12", 4], ["37", 4], ["21", 3], ["35", 3],
  ["51", 3], ["42", 2], ["50", 2], ["61", 2], ["53", 2], ["45", 2], ["46", 2], ["22", 1], ["23", 1],
  ["13", 1], ["14", 1], ["15", 1], ["34", 1], ["36", 1], ["41", 1], ["43", 1], ["52", 1], ["54", 1],
  ["62", 1], ["63", 1], ["64", 1], ["65", 1],
];
const SURNAMES = ["KIM", "PARK", "LEE", "SMITH", "MUELLER", "MARTIN", "TANAKA", "SATO", "BROWN", "IVANOV", "KHAN", "SINGH", "ROSSI", "GARCIA", "NGUYEN"];
const GIVEN_NAMES = ["MINJUN", "SEOYEON", "JOHN", "ANNA", "LUCAS", "EMMA", "HIROSHI", "YUKI", "OLIVIA", "DMITRY", "AISHA", "RAVI", "SOFIA", "DAVID", "MAI"];


function yearsAfter(date: string, years: number): string {
  return addDays(`${Number(date.slice(0, 4)) + years}${date.slice(4)}`, -1);
}

class Picker {
  readonly #provinceTotal = PROVINCE_WEIGHTS.reduce((sum, [, w]) => sum + w, 0);
  readonly #common: Country[] = COMMON_NATIONALITIES.map((a3) => findCountryByAlpha3(a3)!).filter(Boolean);

  constructor(readonly random: () => number) {}

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)];
  }

  province(): string {
    let r = this.random() * this.#provinceTotal;
    for (const [code, weight] of PROVINCE_WEIGHTS) if ((r -= weight) < 0) return code;
    return "11";
  }

  country(): Country {
    return this.random() < 0.8 ? this.pick(this.#common) : this.pick(ALL_COUNTRIES);
  }

  dateBetween(from: string, to: string): string {
    const span = Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);
    return addDays(from, this.int(0, Math.max(0, span)));
  }
}

/** A holder's story: which cards they held and what happened to them. */
function* holderOperations(p: Picker, taken: Set<string>, asOf: string): Generator<RegisterOperation> {
  const country = p.country();
  const birthDate = p.dateBetween("1945-01-01", "2015-12-31");
  const englishName = `${p.pick(SURNAMES)}, ${p.pick(GIVEN_NAMES)}`;
  const sex = p.random() < 0.5 ? "MALE" : "FEMALE";
  const newNumber = (): string => {
    for (;;) {
      const seq = p.int(0, 499) * 2 + (sex === "MALE" ? 1 : 0);
      const number = makeV2023Number({ provinceCode: p.province(), nationalityNumeric: country.numeric, birthDate, sequence: seq });
      if (!taken.has(number)) return taken.add(number), number;
    }
  };
  const validityYears = (from: string) => (Number(from.slice(0, 4)) - Number(birthDate.slice(0, 4)) < 18 ? 5 : 10);
  let number: string;
  let issueCount = 0;
  if (p.random() < 0.55) {
    const validFrom = p.dateBetween(`${Math.max(2014, Number(birthDate.slice(0, 4)) + 1)}-01-01`, addDays(V2023_LAUNCH, -1));
    const province = p.province();
    let old: string;
    do {
      old = makeV2017Number({ nationalityAlpha3: country.alpha3, acceptanceCode: `${province}${p.int(0, 99).toString().padStart(2, "0")}`, birthDate, sequence: p.int(0, 9), checkDigit: p.int(0, 9) });
    } while (taken.has(old));
    taken.add(old);
    yield { kind: "issue", input: { number: old, validFrom, validUntil: yearsAfter(validFrom, validityYears(validFrom)), englishName, sex } };
    if (p.random() >= 0.35) return yield* endings(p, old, 0);
    number = newNumber();
    const switched = p.dateBetween(V2023_LAUNCH, asOf);
    yield { kind: "issue", input: { number, previousNumber: old, validFrom: switched, validUntil: yearsAfter(switched, validityYears(switched)), englishName, sex } };
  } else {
    number = newNumber();
    const validFrom = p.dateBetween(V2023_LAUNCH, asOf);
    yield { kind: "issue", input: { number, validFrom, validUntil: yearsAfter(validFrom, validityYears(validFrom)), englishName, sex } };
  }
  if (p.random() < 0.06) {
    yield { kind: "lost", number, issueCount };
    issueCount += 1;
    const validFrom = p.dateBetween(V2023_LAUNCH, asOf);
    yield { kind: "issue", input: { number, issueCount, validFrom, validUntil: yearsAfter(validFrom, validityYears(validFrom)), englishName, sex } };
  }
  yield* endings(p, number, issueCount);
}

function* endings(p: Picker, number: string, issueCount: number): Generator<RegisterOperation> {
  const r = p.random();
  if (r < 0.02) yield { kind: "lost", number, issueCount };
  else if (r < 0.03) yield { kind: "revoke", number, reason: "residence permit cancelled by decision" };
  else if (r < 0.04) yield { kind: "holder", number, status: p.pick(["CANCELLED", "NATURALIZED", "DECEASED"] as const) };
}

/**
 * A realistic synthetic register of `holders` holders: both versions, V2017 → V2023 switches,
 * re-issues after loss, lost, revoked, expired and inactive holders. Deterministic for a seed
 * and an `asOf` date (the last date a card may start).
 */
export function* syntheticRegister(options: { holders: number; seed: number; asOf: string; reserved?: Iterable<string> }): Generator<RegisterOperation> {
  for (const holder of syntheticHolders(options)) yield* holder;
}

/** The same register, one holder's operations at a time (endless when `holders` is Infinity). */
export function* syntheticHolders(options: { holders: number; seed: number; asOf: string; reserved?: Iterable<string> }): Generator<RegisterOperation[]> {
  const picker = new Picker(seededRandom(options.seed));
  const taken = new Set<string>(options.reserved ?? []);
  for (let i = 0; i < options.holders; i += 1) yield [...holderOperations(picker, taken, options.asOf)];
}
