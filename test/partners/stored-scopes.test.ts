/**
 * A key's scopes are read from api_keys.scopes in two ways: by parseScopes (authentication, the
 * key view, subscription access, the delivery's lineage check) and in SQL by the event-visibility
 * expressions (fan-out, the change feed). Both take names exactly as stored, so a hand-edited or
 * restored row such as "CARDS_CHECK, lineage_read" grants no more than its exact names on either
 * side, and never lineage to a webhook body that the fan-out judged without it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import { ApiKeyService } from "../../src/partners/api-keys.ts";
import { parseScopes, readTypedScopes, SCOPES } from "../../src/partners/roles.ts";
import { tempServices } from "../helpers/temp-hub.ts";

const LOOSE_FORMS = ["CARDS_CHECK,lineage_read", "CARDS_CHECK, LINEAGE_READ", "CARDS_CHECK,LINEAGE_READ ", "cards_check,LINEAGE_READ\t"];

describe("stored scopes", () => {
  it("grants only exact names: a loose form in the database opens nothing it does not spell exactly", () => {
    const services = tempServices();
    const { apiKey, secret } = services.apiKeys.create({ role: "ISSUER" });
    const update = services.db.$client.prepare("UPDATE api_keys SET scopes = ? WHERE id = ?");
    for (const stored of LOOSE_FORMS) {
      update.run(stored, apiKey.id);
      // A fresh service: authentication caches principals for a second.
      const principal = new ApiKeyService(openDatabase(services.file)).authenticate(secret);
      expect(principal, stored).not.toBeNull();
      expect(principal!.scopes.has("LINEAGE_READ"), stored).toBe(stored.split(",").includes("LINEAGE_READ"));
      expect(principal!.scopes.has("CARDS_CHECK"), stored).toBe(stored.split(",").includes("CARDS_CHECK"));
    }
  });

  it("agrees with the SQL side for every stored text: a scope is held exactly when instr() finds it", () => {
    const sqlite = openDatabase(":memory:").$client;
    const held = sqlite.prepare("SELECT instr(',' || ? || ',', ',' || ? || ',') > 0 AS held");
    const piece = fc.oneof(fc.constantFrom(...SCOPES), fc.constantFrom("", " ", "lineage_read", " LINEAGE_READ", "EVENTS_ALL "), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), (parts) => {
        const stored = parts.join(",");
        const parsed = new Set(parseScopes(stored));
        for (const scope of SCOPES) {
          const inSql = (held.get(stored, scope) as { held: number }).held === 1;
          expect(parsed.has(scope), JSON.stringify({ stored, scope })).toBe(inSql);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("reads typed scopes loosely (the CLI): trimmed, upper-cased, empties dropped; creating the key still refuses unknown names", () => {
    expect(readTypedScopes(" cards_check, lineage_read ,,")).toEqual(["CARDS_CHECK", "LINEAGE_READ"]);
    expect(readTypedScopes("")).toEqual([]);
    const services = tempServices();
    expect(() => services.apiKeys.create({ role: "ISSUER", scopes: readTypedScopes("cards_check,bogus") })).toThrow(/BOGUS/);
  });
});
