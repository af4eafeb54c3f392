import type { HubDb } from "../../src/db/client.ts";

/** Every row of every table, to show that something wrote nothing. */
export function dbSnapshot(db: HubDb): Record<string, unknown[]> {
  const tables = db.$client.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
  return Object.fromEntries(tables.map(({ name }) => [name, db.$client.prepare(`SELECT * FROM "${name}"`).all()]));
}
