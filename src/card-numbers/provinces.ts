/**
 * Province-level administrative divisions of mainland China (GB/T 2260, first two digits).
 * Used by both card formats: V2023 positions 2–3, V2017 the first two digits of the
 * acceptance-place code (positions 4–5).
 */
export interface Province {
  code: string;
  name: string;
}

export const PROVINCES: readonly Province[] = Object.freeze(
  (
    [
      ["11", "Beijing"],
      ["12", "Tianjin"],
      ["13", "Hebei"],
      ["14", "Shanxi"],
      ["15", "Inner Mongolia"],
      ["21", "Liaoning"],
      ["22", "Jilin"],
      ["23", "Heilongjiang"],
      ["31", "Shanghai"],
      ["32", "Jiangsu"],
      ["33", "Zhejiang"],
      ["34", "Anhui"],
      ["35", "Fujian"],
      ["36", "Jiangxi"],
      ["37", "Shandong"],
      ["41", "Henan"],
      ["42", "Hubei"],
      ["43", "Hunan"],
      ["44", "Guangdong"],
      ["45", "Guangxi"],
      ["46", "Hainan"],
      ["50", "Chongqing"],
      ["51", "Sichuan"],
      ["52", "Guizhou"],
      ["53", "Yunnan"],
      ["54", "Tibet"],
      ["61", "Shaanxi"],
      ["62", "Gansu"],
      ["63", "Qinghai"],
      ["64", "Ningxia"],
      ["65", "Xinjiang"],
    ] as const
  ).map(([code, name]) => Object.freeze({ code, name })),
);

/** Index 0..99 → province, so the parser can look a code up without allocating a string. */
const BY_INDEX: readonly (Province | null)[] = (() => {
  const table: (Province | null)[] = new Array<Province | null>(100).fill(null);
  for (const p of PROVINCES) table[Number(p.code)] = p;
  return table;
})();

/** Lookup by the numeric value 0..99 of a two-digit code (hot path of the card-number parser). */
export function findProvinceByIndex(index: number): Province | null {
  return index >= 0 && index < 100 ? (BY_INDEX[index] ?? null) : null;
}

/** `code` must be exactly two ASCII digits, e.g. "11"; anything else returns null. */
export function findProvince(code: string): Province | null {
  if (code.length !== 2) return null;
  const a = code.charCodeAt(0) - 48;
  const b = code.charCodeAt(1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return null;
  return BY_INDEX[a * 10 + b];
}
