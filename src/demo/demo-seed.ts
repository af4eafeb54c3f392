import fs from "node:fs";
import path from "node:path";
import { issueCard } from "../cards/card-issuing.ts";
import { reportCardLost, revokeCard, setHolderStatus } from "../cards/card-register.ts";
import { chinaToday } from "../china-date.ts";
import type { RegisterContext } from "../cards/register-context.ts";
import type { HubDb } from "../db/client.ts";
import { syntheticRegister, type RegisterOperation } from "./synthetic-register.ts";
import { hasAnyCard, inSeedTransaction } from "./demo.store.ts";
import type { ApiKeyService } from "../partners/api-keys.ts";
import type { Industry, PartnerService } from "../partners/partner-service.ts";
import type { Role } from "../partners/roles.ts";
import { ensurePrivateDir, writePrivateFile } from "../private-files.ts";

const DEMO_HOLDERS = 3000;
export const DEMO_SEED = 20231201;
const KEYS_FILE = "demo-keys.json";

/** The services the demo seeds through (the hub's services are one). */
export interface DemoServices {
  db: HubDb;
  register: RegisterContext;
  partners: PartnerService;
  apiKeys: ApiKeyService;
}

export interface DemoKeys {
  ADMIN: string;
  ISSUER: string;
  VIEWER: string;
  PARTNER: string;
  partnerId: string;
}

const DEMO_PARTNERS: { name: string; industry: Industry; provinceCode: string | null }[] = [
  { name: "Lakeside Hotels Group", industry: "ACCOMMODATION", provinceCode: "33" },
  { name: "Capital Rail Ticketing", industry: "RAIL", provinceCode: "11" },
  { name: "Eastern Sky Airlines", industry: "AVIATION", provinceCode: "31" },
  { name: "Pearl River Ferries", industry: "SHIPPING", provinceCode: "44" },
  { name: "Harbour Commercial Bank", industry: "BANKING", provinceCode: "31" },
  { name: "QuickPay Wallet", industry: "PAYMENTS", provinceCode: null },
  { name: "Unicom Mobile Retail", industry: "TELECOM", provinceCode: "32" },
  { name: "Marketplace Online", industry: "ONLINE_SERVICES", provinceCode: "33" },
];

/**
 * Cards the README's tour uses, always on the demo register: a V2017 → V2023 switch (the published
 * sample pair), a lost card replaced under the same number, a revoked card, an inactive holder and
 * an expired V2017 card.
 */
export const SHOWCASE: RegisterOperation[] = [
  { kind: "issue", input: { number: "CAN110081080319", validFrom: "2016-05-10", validUntil: "2026-05-09", englishName: "MARTIN, CLAIRE", sex: "FEMALE" } },
  {
    kind: "issue",
    input: { number: "911124198108030024", previousNumber: "CAN110081080319", validFrom: "2024-03-01", validUntil: "2034-02-28", englishName: "MARTIN, CLAIRE", sex: "FEMALE" },
  },
  { kind: "issue", input: { number: "932682198501010017", validFrom: "2023-12-15", validUntil: "2033-12-14", englishName: "AL-SAUD, FAHAD", sex: "MALE" } },
  { kind: "lost", number: "932682198501010017", issueCount: 0 },
  {
    kind: "issue",
    input: { number: "932682198501010017", issueCount: 1, validFrom: "2024-06-01", validUntil: "2034-05-31", englishName: "AL-SAUD, FAHAD", sex: "MALE" },
  },
  { kind: "issue", input: { number: "931410199007150218", validFrom: "2024-01-20", validUntil: "2034-01-19", englishName: "KIM, MINJUN", sex: "MALE" } },
  { kind: "revoke", number: "931410199007150218", reason: "permanent residence revoked" },
  { kind: "issue", input: { number: "944840196211030070", validFrom: "2024-02-02", validUntil: "2034-02-01", englishName: "SMITH, JOHN", sex: "MALE" } },
  { kind: "holder", number: "944840196211030070", status: "NATURALIZED" },
  { kind: "issue", input: { number: "JPN310075031210", validFrom: "2013-01-10", validUntil: "2023-01-09", englishName: "TANAKA, YUKI", sex: "FEMALE" } },
];

const SHOWCASE_NUMBERS = SHOWCASE.map((op) => (op.kind === "issue" ? op.input.number : op.number));

export function applyOperation(services: Pick<DemoServices, "register">, op: RegisterOperation): void {
  if (op.kind === "issue") issueCard(services.register, op.input);
  else if (op.kind === "lost") reportCardLost(services.register, op.number, op.issueCount);
  else if (op.kind === "revoke") revokeCard(services.register, op.number, op.reason);
  else setHolderStatus(services.register, op.number, op.status);
}

export function isRegisterEmpty(services: Pick<DemoServices, "db">): boolean {
  return !hasAnyCard(services.db);
}

/** Seeds the demo register, partners and keys into an empty database, in one transaction. */
export function seedDemo(services: DemoServices, dataDir: string, holders = DEMO_HOLDERS): DemoKeys {
  const asOf = chinaToday(services.register.now());
  const keys = inSeedTransaction(services.db, () => {
    for (const op of SHOWCASE) applyOperation(services, op);
    for (const op of syntheticRegister({ holders, seed: DEMO_SEED, asOf, reserved: SHOWCASE_NUMBERS })) applyOperation(services, op);
    const partners = DEMO_PARTNERS.map((partner) => services.partners.create(partner));
    const secretOf = (role: Role, partnerId?: string) => services.apiKeys.create({ role, partnerId }).secret;
    return {
      ADMIN: secretOf("ADMIN"),
      ISSUER: secretOf("ISSUER"),
      VIEWER: secretOf("VIEWER"),
      PARTNER: secretOf("PARTNER", partners[0].id),
      partnerId: partners[0].id,
    };
  });
  // Development only: the demo keys are kept so every start can print them again.
  ensurePrivateDir(dataDir);
  writePrivateFile(path.join(dataDir, KEYS_FILE), JSON.stringify(keys, null, 2));
  return keys;
}

export function readDemoKeys(dataDir: string): DemoKeys | null {
  const file = path.join(dataDir, KEYS_FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as DemoKeys) : null;
}
