import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  computeV2023CheckCharacter,
  normalizeCardNumber,
  parseCardNumber,
  type CardNumberErrorCode,
  type ParsedCardNumber,
} from "../../src/card-numbers/card-number.ts";
import { makeV2017Number, makeV2023Number } from "../../src/card-numbers/card-number-generator.ts";
import { checkLineage } from "../../src/card-numbers/lineage.ts";
import { ALL_COUNTRIES, findCountryByAlpha3, findCountryByNumeric } from "../../src/card-numbers/countries.ts";
import { PROVINCES, findProvince } from "../../src/card-numbers/provinces.ts";

/** Fixed "today" (noon in China) so date checks are deterministic. */
const TODAY = new Date("2025-06-15T04:00:00Z");

function parse(input: string): ParsedCardNumber {
  return parseCardNumber(input, TODAY);
}

function codes(p: ParsedCardNumber): CardNumberErrorCode[] {
  return p.errors.map((e) => e.code);
}

/** V2023 number with a correct check character from its first 17 digits. */
function withCheck(first17: string): string {
  return first17 + computeV2023CheckCharacter(first17);
}

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

describe("published samples", () => {
  it("932682198501010017: Jiangsu, Saudi Arabia, 1985-01-01", () => {
    const p = parse("932682198501010017");
    expect(p).toMatchObject({
      input: "932682198501010017",
      normalized: "932682198501010017",
      valid: true,
      version: "V2023",
      province: { code: "32", name: "Jiangsu" },
      nationality: { alpha3: "SAU", numeric: "682", name: "Saudi Arabia" },
      birthDate: "1985-01-01",
      sex: "MALE",
      errors: [],
    });
  });

  it("911124198108030024: Beijing, Canada, 1981-08-03", () => {
    const p = parse("911124198108030024");
    expect(p).toMatchObject({
      valid: true,
      version: "V2023",
      province: { code: "11", name: "Beijing" },
      nationality: { alpha3: "CAN", numeric: "124", name: "Canada" },
      birthDate: "1981-08-03",
      sex: "FEMALE",
    });
  });

  it("CAN110081080319: Canada, Beijing, 1981-08-03", () => {
    const p = parse("CAN110081080319");
    expect(p).toMatchObject({
      valid: true,
      version: "V2017",
      province: { code: "11", name: "Beijing" },
      nationality: { alpha3: "CAN", numeric: "124" },
      birthDate: "1981-08-03",
      sex: null,
      errors: [],
    });
  });

  it("check characters of the samples", () => {
    expect(computeV2023CheckCharacter("93268219850101001")).toBe("7");
    expect(computeV2023CheckCharacter("91112419810803002")).toBe("4");
    expect(() => computeV2023CheckCharacter("9111241981080300")).toThrow(RangeError);
    expect(() => computeV2023CheckCharacter("9111241981080300X")).toThrow(RangeError);
  });

  it("parses with the real clock when the caller passes it", () => {
    expect(parseCardNumber("911124198108030024", new Date()).valid).toBe(true);
  });
});

describe("normalization", () => {
  it("full-width digits", () => {
    const p = parse("９１１１２４１９８１０８０３００２４");
    expect(p.normalized).toBe("911124198108030024");
    expect(p.valid).toBe(true);
    expect(p.input).toBe("９１１１２４１９８１０８０３００２４");
  });

  it("spaces, tabs, ideographic spaces and all kinds of hyphens", () => {
    for (const input of [
      " 911124 19810803 0024 ",
      "911124-19810803-0024",
      "9111\u300024198108030024",
      "911124‐19810803‑0024",
      "911124–19810803—0024",
      "911124−19810803－0024",
      "\t911124\n198108030024\r\n",
      "\u200b911124\u200e198108030024\ufeff",
    ]) {
      const p = parse(input);
      expect(p.normalized, JSON.stringify(input)).toBe("911124198108030024");
      expect(p.valid).toBe(true);
    }
  });

  it("lower-case x check character and lower-case V2017 letters", () => {
    const x = withCheck("91112419810803018");
    expect(x.endsWith("X")).toBe(true);
    const p = parse(x.toLowerCase());
    expect(p.normalized).toBe(x);
    expect(p.valid).toBe(true);
    expect(parse("can 1100 810803 19").normalized).toBe("CAN110081080319");
    expect(parse("can 1100 810803 19").valid).toBe(true);
    expect(parse("ｃａｎ１１００８１０８０３１９").valid).toBe(true);
  });

  it("returns already-clean input unchanged", () => {
    const s = "911124198108030024";
    expect(normalizeCardNumber(s)).toBe(s);
  });

  it("re-composes characters joined by removing a separator (idempotence edge cases)", () => {
    for (const s of ["e-\u0301", "e\u00a8", "A\u3000\u0308", "ǅ-x", "ı1", "ß"]) {
      const once = normalizeCardNumber(s);
      expect(normalizeCardNumber(once), JSON.stringify(s)).toBe(once);
    }
    expect(normalizeCardNumber("ı")).toBe("ı"); // dotless i is not turned into "I"
  });
});

describe("error codes", () => {
  it("EMPTY for empty and blank input", () => {
    for (const input of ["", "   ", "\u3000", " - – ", "\t\n"]) {
      const p = parse(input);
      expect(codes(p)).toEqual(["EMPTY"]);
      expect(p.normalized).toBeNull();
      expect(p.valid).toBe(false);
      expect(p.version).toBeNull();
    }
  });

  it("BAD_CHARACTERS names the first bad character safely", () => {
    const p = parse("911124/198108030024");
    expect(codes(p)).toEqual(["BAD_CHARACTERS"]);
    expect(p.errors[0].message).toContain('"/"');
    expect(p.errors[0].message).toContain("character 7");

    const accent = parse("CAÑ110081080319");
    expect(codes(accent)).toEqual(["BAD_CHARACTERS"]);
    expect(accent.errors[0].message).toContain("U+00D1");

    const control = parse("9111\u000024198108030024");
    expect(codes(control)).toEqual(["BAD_CHARACTERS"]);
    expect(control.errors[0].message).toContain("U+0000");
    expect(control.errors[0].message).not.toContain("\u0000");

    const override = parse("911124\u202E198108030024\u0007");
    expect(codes(override)).toEqual(["BAD_CHARACTERS"]);
    expect(override.errors[0].message).toContain("U+0007");
    expect(override.errors[0].message).not.toContain("\u0007");

    const emoji = parse("91112419810803002😀");
    expect(codes(emoji)).toEqual(["BAD_CHARACTERS"]);
    expect(emoji.errors[0].message).toContain("U+1F600");
    expect(emoji.errors[0].message).toContain("character 18");
  });

  it("WRONG_LENGTH says the length found and the expected lengths", () => {
    for (const input of ["91112419810803002", "9111241981080300244", "CAN11008108031", "1", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]) {
      const p = parse(input);
      expect(codes(p), input).toEqual(["WRONG_LENGTH"]);
      expect(p.errors[0].message).toContain(`${input.length} character`);
      expect(p.errors[0].message).toContain("15");
      expect(p.errors[0].message).toContain("18");
      expect(p.version).toBeNull();
    }
  });

  it("NOT_FOREIGNER_NUMBER for a citizen ID (including one with a valid checksum)", () => {
    for (const input of ["11010519491231002X", "440524188001010014", "110105194912310021"]) {
      const p = parse(input);
      expect(codes(p), input).toEqual(["NOT_FOREIGNER_NUMBER"]);
      expect(p.errors[0].message).toMatch(/citizen ID/);
      expect(p.errors[0].message).not.toMatch(/check/i);
      expect(p.version).toBeNull();
    }
  });

  it("NOT_FOREIGNER_NUMBER for Hong Kong, Macao and Taiwan residence permits", () => {
    const cases: [string, RegExp][] = [
      ["810000199408230021", /Hong Kong/],
      ["820000200009100032", /Macao/],
      ["830000199201300022", /Taiwan/],
    ];
    for (const [input, region] of cases) {
      const p = parse(input);
      expect(codes(p)).toEqual(["NOT_FOREIGNER_NUMBER"]);
      expect(p.errors[0].message).toMatch(/residence permit/);
      expect(p.errors[0].message).toMatch(region);
    }
    // 81 not followed by 0000 is an ordinary citizen-ID shape.
    expect(parse("810100199408230021").errors[0].message).toMatch(/citizen ID/);
  });

  it("NOT_FOREIGNER_NUMBER for 18-digit numbers starting with 0", () => {
    const p = parse("011124198108030024");
    expect(codes(p)).toEqual(["NOT_FOREIGNER_NUMBER"]);
    expect(p.errors[0].message).toMatch(/starts with 0/);
  });

  it("NOT_FOREIGNER_NUMBER for passport and travel-permit numbers", () => {
    for (const input of ["E12345678", "G1234567", "PA1234567", "e 1234 5678", "C12345678", "AB123456"]) {
      const p = parse(input);
      expect(codes(p), input).toEqual(["NOT_FOREIGNER_NUMBER"]);
      expect(p.errors[0].message).toMatch(/passport/);
    }
    // Too many letters or digits: just a wrong length.
    expect(codes(parse("ABC123456"))).toEqual(["WRONG_LENGTH"]);
    expect(codes(parse("E1234567890"))).toEqual(["WRONG_LENGTH"]);
    expect(codes(parse("E12345"))).toEqual(["WRONG_LENGTH"]);
  });

  it("NOT_FOREIGNER_NUMBER for a first-generation 15-digit citizen ID", () => {
    const p = parse("110105491231002");
    expect(codes(p)).toEqual(["NOT_FOREIGNER_NUMBER"]);
    expect(p.errors[0].message).toMatch(/15-digit/);
  });

  it("NOT_FOREIGNER_NUMBER for other 15- and 18-character shapes, never a checksum error", () => {
    for (const input of ["CA1100810803190", "CAN11008108031O", "1CAN10081080319", "91110108MA01ABCD2X", "91112419810803002A", "X11124198108030024"]) {
      const p = parse(input);
      expect(codes(p), input).toEqual(["NOT_FOREIGNER_NUMBER"]);
      expect(p.version).toBeNull();
    }
    expect(parse("91112419810803002A").errors[0].message).toContain('"A"');
  });

  it("UNKNOWN_PROVINCE (V2023 and V2017), other parts still decoded", () => {
    const p = parse(withCheck("99912419810803002"));
    expect(codes(p)).toEqual(["UNKNOWN_PROVINCE"]);
    expect(p.version).toBe("V2023");
    expect(p.province).toBeNull();
    expect(p.nationality?.alpha3).toBe("CAN");
    expect(p.birthDate).toBe("1981-08-03");
    expect(p.errors[0].message).toContain('"99"');

    const q = parse("CAN990081080319");
    expect(codes(q)).toEqual(["UNKNOWN_PROVINCE"]);
    expect(q.version).toBe("V2017");
    expect(q.nationality?.alpha3).toBe("CAN");
  });

  it("UNKNOWN_NATIONALITY: unassigned codes and China", () => {
    const p = parse(withCheck("91199919810803002"));
    expect(codes(p)).toEqual(["UNKNOWN_NATIONALITY"]);
    expect(p.province?.name).toBe("Beijing");
    expect(p.nationality).toBeNull();

    const china = parse(withCheck("91115619810803002"));
    expect(codes(china)).toEqual(["UNKNOWN_NATIONALITY"]);
    expect(china.errors[0].message).toMatch(/China/);

    expect(codes(parse("ZZZ110081080319"))).toEqual(["UNKNOWN_NATIONALITY"]);
    const chn = parse("CHN110081080319");
    expect(codes(chn)).toEqual(["UNKNOWN_NATIONALITY"]);
    expect(chn.errors[0].message).toMatch(/China/);
  });

  it("BAD_BIRTH_DATE: 30 February, month 13, before 1900, in the future", () => {
    const feb30 = parse(withCheck("91112419810230002"));
    expect(codes(feb30)).toEqual(["BAD_BIRTH_DATE"]);
    expect(feb30.birthDate).toBeNull();
    expect(feb30.nationality?.alpha3).toBe("CAN");

    expect(codes(parse(withCheck("91112419811301002")))).toEqual(["BAD_BIRTH_DATE"]);
    expect(codes(parse(withCheck("91112419000229002")))).toEqual(["BAD_BIRTH_DATE"]); // 1900 is not a leap year
    expect(parse(withCheck("91112420000229002")).valid).toBe(true); // 2000 is
    expect(codes(parse(withCheck("91112418991231002")))).toEqual(["BAD_BIRTH_DATE"]);
    expect(parse(withCheck("91112419000101002")).valid).toBe(true);

    const future = parse(withCheck("91112420250616002"));
    expect(codes(future)).toEqual(["BAD_BIRTH_DATE"]);
    expect(future.errors[0].message).toMatch(/future/);
    expect(parse(withCheck("91112420250615002")).valid).toBe(true); // born today

    expect(codes(parse("CAN110081023019"))).toEqual(["BAD_BIRTH_DATE"]);
    expect(codes(parse("CAN110081130119"))).toEqual(["BAD_BIRTH_DATE"]);
  });

  it("'today' is the date in China (UTC+8)", () => {
    const bornOn16 = withCheck("91112420250616002");
    // 2025-06-15T16:30Z is already 2025-06-16 00:30 in Beijing.
    expect(parseCardNumber(bornOn16, new Date("2025-06-15T16:30:00Z")).valid).toBe(true);
    expect(parseCardNumber(bornOn16, new Date("2025-06-15T15:59:59Z")).valid).toBe(false);
    expect(() => parseCardNumber(bornOn16, new Date("nonsense"))).toThrow(RangeError);
  });

  it("V2017 century: 20YY unless that is in the future", () => {
    expect(parse("USA310000022919").birthDate).toBe("2000-02-29");
    expect(parse("USA310024061519").birthDate).toBe("2024-06-15");
    expect(parse("USA310025061519").birthDate).toBe("2025-06-15");
    expect(parse("USA310025061619").birthDate).toBe("1925-06-16");
    expect(parse("USA310099123119").birthDate).toBe("1999-12-31");
    // 2028-02-29 is in the future and 1928-02-29 is real.
    expect(parse("USA310028022919").birthDate).toBe("1928-02-29");
    // 2029-02-29 does not exist, 1929-02-29 neither.
    expect(codes(parse("USA310029022919"))).toEqual(["BAD_BIRTH_DATE"]);
  });

  it("V2017 check digit is not verified", () => {
    for (let d = 0; d <= 9; d++) expect(parse(`CAN11008108031${d}`).valid).toBe(true);
  });

  it("BAD_CHECK_DIGIT on a mistyped V2023 number", () => {
    const p = parse("911124198108030025");
    expect(codes(p)).toEqual(["BAD_CHECK_DIGIT"]);
    expect(p.version).toBe("V2023");
    expect(p.nationality?.alpha3).toBe("CAN");
    expect(p.province?.code).toBe("11");
    expect(p.birthDate).toBe("1981-08-03");
    expect(codes(parse("91112419810803002X"))).toEqual(["BAD_CHECK_DIGIT"]);
    expect(codes(parse("911124198108030124"))).toEqual(["BAD_CHECK_DIGIT"]);
  });

  it("reports every applicable error at once", () => {
    const p = parse("900156209902300010"); // check character should be 9
    expect(codes(p)).toEqual(["UNKNOWN_PROVINCE", "UNKNOWN_NATIONALITY", "BAD_BIRTH_DATE", "BAD_CHECK_DIGIT"]);
    expect(p.version).toBe("V2023");
    expect(p.valid).toBe(false);
    expect(p.sex).toBe("MALE");
    expect(codes(parse("ZZZ990081023019"))).toEqual(["UNKNOWN_NATIONALITY", "UNKNOWN_PROVINCE", "BAD_BIRTH_DATE"]);
  });
});

describe("tables", () => {
  it("provinces", () => {
    expect(PROVINCES).toHaveLength(31);
    expect(findProvince("11")).toEqual({ code: "11", name: "Beijing" });
    expect(findProvince("65")?.name).toBe("Xinjiang");
    for (const c of ["00", "10", "71", "81", "1", "111", "1a", ""]) expect(findProvince(c), c).toBeNull();
  });

  it("countries, without China", () => {
    expect(ALL_COUNTRIES.length).toBeGreaterThan(240);
    expect(findCountryByAlpha3("CAN")).toEqual({ alpha3: "CAN", numeric: "124", name: "Canada" });
    expect(findCountryByNumeric("124")).toBe(findCountryByAlpha3("CAN"));
    expect(findCountryByNumeric("004")?.alpha3).toBe("AFG");
    expect(findCountryByAlpha3("CHN")).toBeNull();
    expect(findCountryByNumeric("156")).toBeNull();
    expect(ALL_COUNTRIES.some((c) => c.alpha3 === "CHN")).toBe(false);
    expect(findCountryByAlpha3("can")).toBeNull();
    expect(findCountryByNumeric("4")).toBeNull();
    for (const c of ALL_COUNTRIES) {
      expect(c.numeric).toMatch(/^[0-9]{3}$/);
      expect(c.alpha3).toMatch(/^[A-Z]{3}$/);
      expect(c.name.length).toBeGreaterThan(0);
    }
  });
});

describe("generators", () => {
  it("build the published samples", () => {
    expect(makeV2023Number({ provinceCode: "32", nationalityNumeric: "682", birthDate: "1985-01-01", sequence: 1 })).toBe(
      "932682198501010017",
    );
    expect(makeV2023Number({ provinceCode: "11", nationalityNumeric: "124", birthDate: "1981-08-03", sequence: 2 })).toBe(
      "911124198108030024",
    );
    expect(
      makeV2017Number({ nationalityAlpha3: "CAN", acceptanceCode: "1100", birthDate: "1981-08-03", sequence: 1, checkDigit: 9 }),
    ).toBe("CAN110081080319");
    expect(makeV2017Number({ nationalityAlpha3: "CAN", acceptanceCode: "1100", birthDate: "1981-08-03", sequence: 1 })).toBe(
      "CAN110081080310",
    );
  });

  it("reject malformed parts", () => {
    const ok = { provinceCode: "11", nationalityNumeric: "124", birthDate: "1981-08-03", sequence: 2 };
    expect(() => makeV2023Number({ ...ok, provinceCode: "1" })).toThrow(RangeError);
    expect(() => makeV2023Number({ ...ok, nationalityNumeric: "12" })).toThrow(RangeError);
    expect(() => makeV2023Number({ ...ok, birthDate: "19810803" })).toThrow(RangeError);
    expect(() => makeV2023Number({ ...ok, sequence: 1000 })).toThrow(RangeError);
    expect(() => makeV2023Number({ ...ok, sequence: 1.5 })).toThrow(RangeError);
    const ok17 = { nationalityAlpha3: "CAN", acceptanceCode: "1100", birthDate: "1981-08-03", sequence: 1 };
    expect(() => makeV2017Number({ ...ok17, nationalityAlpha3: "can" })).toThrow(RangeError);
    expect(() => makeV2017Number({ ...ok17, acceptanceCode: "110" })).toThrow(RangeError);
    expect(() => makeV2017Number({ ...ok17, sequence: 10 })).toThrow(RangeError);
    expect(() => makeV2017Number({ ...ok17, checkDigit: -1 })).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const provinceArb = fc.constantFrom(...PROVINCES);
const countryArb = fc.constantFrom(...ALL_COUNTRIES);
const v2023BirthArb = fc
  .date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date("2025-06-15T00:00:00Z"), noInvalidDate: true })
  .map(isoDate);
// A YYMMDD date decodes back to the same century only within the 100 years up to today.
const v2017BirthArb = fc
  .date({ min: new Date("1925-06-16T00:00:00Z"), max: new Date("2025-06-15T00:00:00Z"), noInvalidDate: true })
  .map(isoDate);

const v2023Arb = fc.record({
  province: provinceArb,
  country: countryArb,
  birthDate: v2023BirthArb,
  sequence: fc.integer({ min: 0, max: 999 }),
});

const v2023NumberArb = v2023Arb.map((r) =>
  makeV2023Number({
    provinceCode: r.province.code,
    nationalityNumeric: r.country.numeric,
    birthDate: r.birthDate,
    sequence: r.sequence,
  }),
);

const SEPARATORS = [" ", "-", "\u3000", "－", "‐", "‑", "–", "—", "−", "\t", "\u00a0"];

/** Inserts separators at the given (position, separator) pairs. */
function sprinkle(s: string, inserts: [number, number][]): string {
  const chars = [...s];
  for (const [pos, sep] of inserts) chars.splice(pos % (chars.length + 1), 0, SEPARATORS[sep % SEPARATORS.length]);
  return chars.join("");
}

const insertsArb = fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 12 });

describe("properties", () => {
  it("every generated V2023 number parses back to exactly its parts", () => {
    fc.assert(
      fc.property(v2023Arb, (r) => {
        const n = makeV2023Number({
          provinceCode: r.province.code,
          nationalityNumeric: r.country.numeric,
          birthDate: r.birthDate,
          sequence: r.sequence,
        });
        const p = parse(n);
        expect(p.errors).toEqual([]);
        expect(p.valid).toBe(true);
        expect(p.version).toBe("V2023");
        expect(p.normalized).toBe(n);
        expect(p.province).toBe(r.province);
        expect(p.nationality).toBe(r.country);
        expect(p.birthDate).toBe(r.birthDate);
        expect(p.sex).toBe(r.sequence % 2 === 1 ? "MALE" : "FEMALE");
      }),
      { numRuns: 2000 },
    );
  });

  it("every single-character substitution of a valid V2023 number is rejected", () => {
    fc.assert(
      fc.property(v2023NumberArb, fc.integer({ min: 0, max: 17 }), fc.constantFrom(..."0123456789X"), (n, pos, ch) => {
        fc.pre(n[pos] !== ch);
        const mutated = n.slice(0, pos) + ch + n.slice(pos + 1);
        const p = parse(mutated);
        expect(p.valid).toBe(false);
        expect(p.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });

  it("exhaustively: all substitutions of the published samples are rejected", () => {
    for (const n of ["932682198501010017", "911124198108030024"]) {
      for (let pos = 0; pos < 18; pos++) {
        for (const ch of "0123456789X") {
          if (n[pos] === ch) continue;
          expect(parse(n.slice(0, pos) + ch + n.slice(pos + 1)).valid, `${n} @${pos} → ${ch}`).toBe(false);
        }
      }
    }
  });

  it("every generated V2017 number parses back to exactly its parts", () => {
    fc.assert(
      fc.property(
        countryArb,
        provinceArb,
        fc.integer({ min: 0, max: 99 }),
        v2017BirthArb,
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }),
        (country, province, place, birthDate, sequence, checkDigit) => {
          const n = makeV2017Number({
            nationalityAlpha3: country.alpha3,
            acceptanceCode: province.code + String(place).padStart(2, "0"),
            birthDate,
            sequence,
            checkDigit,
          });
          const p = parse(n);
          expect(p.errors).toEqual([]);
          expect(p.version).toBe("V2017");
          expect(p.normalized).toBe(n);
          expect(p.nationality).toBe(country);
          expect(p.province).toBe(province);
          expect(p.birthDate).toBe(birthDate);
          expect(p.sex).toBeNull();
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("inserted spaces/hyphens and lower case do not change the normalized result", () => {
    fc.assert(
      fc.property(v2023NumberArb, insertsArb, fc.boolean(), (n, inserts, lower) => {
        const messy = sprinkle(lower ? n.toLowerCase() : n, inserts);
        expect(normalizeCardNumber(messy)).toBe(n);
        const p = parse(messy);
        expect(p.valid).toBe(true);
        expect(p.normalized).toBe(n);
        expect(p.input).toBe(messy);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."0123456789ABCXYZabcxyz-  ") }), insertsArb, (s, inserts) => {
        expect(normalizeCardNumber(sprinkle(s, inserts))).toBe(normalizeCardNumber(s));
      }),
      { numRuns: 1000 },
    );
  });

  const anyString = fc.oneof(
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.string({ unit: "grapheme", maxLength: 30 }),
    fc.string({
      unit: fc.constantFrom(
        ..."09AXzx -\u3000－‐—\u0301\u0308\u00a8\u00b4ı ß ﬀ ǅ\u200b\u200e\u202e\u0000\u00adＡ９é\ud800",
      ),
      maxLength: 25,
    }),
    fc.string({ unit: fc.constantFrom(..."0123456789ABCNSUXx"), minLength: 13, maxLength: 20 }),
  );

  it("normalization is idempotent", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const once = normalizeCardNumber(s);
        expect(normalizeCardNumber(once)).toBe(once);
      }),
      { numRuns: 5000 },
    );
  });

  it("parse never throws, valid === (errors.length === 0), messages are safe", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const p = parseCardNumber(s, TODAY);
        expect(p.valid).toBe(p.errors.length === 0);
        expect(p.input).toBe(s);
        expect(p.normalized === null).toBe(p.errors.some((e) => e.code === "EMPTY"));
        if (p.normalized !== null) expect(p.normalized).toBe(normalizeCardNumber(s));
        if (p.valid) expect(p.version).not.toBeNull();
        for (const e of p.errors) {
          expect(e.message.length).toBeGreaterThan(0);
          // No control, format, private-use or surrogate characters, no separators other than space.
          expect(e.message).not.toMatch(/[\p{C}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe("lineage", () => {
  const v2017 = parse("CAN110081080319");
  const v2023 = parse("911124198108030024");

  it("CAN110081080319 → 911124198108030024 is consistent", () => {
    expect(checkLineage(v2017, v2023)).toEqual({ consistent: true, reasons: [] });
  });

  it("province may differ", () => {
    const moved = parse(makeV2023Number({ provinceCode: "31", nationalityNumeric: "124", birthDate: "1981-08-03", sequence: 7 }));
    expect(checkLineage(v2017, moved).consistent).toBe(true);
  });

  it("nationality mismatch", () => {
    const usa = parse(makeV2023Number({ provinceCode: "11", nationalityNumeric: "840", birthDate: "1981-08-03", sequence: 2 }));
    const r = checkLineage(v2017, usa);
    expect(r.consistent).toBe(false);
    expect(r.reasons).toHaveLength(1);
    expect(r.reasons[0]).toMatch(/Nationality/);
  });

  it("birth-date mismatch", () => {
    const other = parse(makeV2023Number({ provinceCode: "11", nationalityNumeric: "124", birthDate: "1981-08-04", sequence: 2 }));
    const r = checkLineage(v2017, other);
    expect(r.consistent).toBe(false);
    expect(r.reasons).toHaveLength(1);
    expect(r.reasons[0]).toMatch(/Birth date/);
    // Same YYMMDD, other century.
    const century = parse(makeV2023Number({ provinceCode: "11", nationalityNumeric: "124", birthDate: "2081-08-03", sequence: 2 }));
    expect(checkLineage(v2017, century).consistent).toBe(false);
  });

  it("wrong versions or order", () => {
    const reversed = checkLineage(v2023, v2017);
    expect(reversed.consistent).toBe(false);
    expect(reversed.reasons.some((m) => /previous number .* 2017-format/.test(m))).toBe(true);
    expect(reversed.reasons.some((m) => /new number .* 2023-format/.test(m))).toBe(true);
    expect(checkLineage(v2017, parse("CAN110081080319")).consistent).toBe(false);
    expect(checkLineage(v2017, parse("110105194912310021")).consistent).toBe(false);
    expect(checkLineage(parse(""), v2023).consistent).toBe(false);
  });

  it("invalid numbers are never consistent", () => {
    const r = checkLineage(v2017, parse("911124198108030025"));
    expect(r.consistent).toBe(false);
    expect(r.reasons[0]).toMatch(/BAD_CHECK_DIGIT/);
    expect(checkLineage(parse("CHN110081080319"), parse(withCheck("91115619810803002"))).consistent).toBe(false);
  });

  it("property: generated pairs with the same parts are consistent", () => {
    fc.assert(
      fc.property(countryArb, provinceArb, provinceArb, v2017BirthArb, fc.integer({ min: 0, max: 999 }), (c, p1, p2, b, seq) => {
        const prev = parse(makeV2017Number({ nationalityAlpha3: c.alpha3, acceptanceCode: p1.code + "00", birthDate: b, sequence: seq % 10 }));
        const next = parse(makeV2023Number({ provinceCode: p2.code, nationalityNumeric: c.numeric, birthDate: b, sequence: seq }));
        expect(checkLineage(prev, next)).toEqual({ consistent: true, reasons: [] });
      }),
      { numRuns: 500 },
    );
  });
});
