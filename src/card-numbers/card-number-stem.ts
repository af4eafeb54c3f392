import { isV2017Shape } from "./card-number-v2017.ts";
import { isV2023Shape } from "./card-number-v2023.ts";

/**
 * What a holder's identity fixes in a card number, without the parts an authority assigns: for a
 * V2023 number positions 1-14 (9, province, numeric nationality, birth date); for a V2017 number
 * nationality, province and birth date (positions 1-5 and 8-13, without the rest of the acceptance
 * place, the sequence and the check digit). Numbers that share a stem differ only in the parts a
 * guesser enumerates. Null for anything not shaped like a card number. Takes a normalized number.
 */
export function cardNumberStem(normalized: string): string | null {
  if (normalized.length === 18 && isV2023Shape(normalized)) return normalized.slice(0, 14);
  if (normalized.length === 15 && isV2017Shape(normalized)) return normalized.slice(0, 5) + normalized.slice(7, 13);
  return null;
}
