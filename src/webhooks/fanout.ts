import type { Statement } from "better-sqlite3";
import type { HubDb } from "../db/client.ts";
import type { StoredEvent } from "../events/event-catalogue.ts";

/** Which subscriptions receive which events: the types they named, and only what they may see. */
export class FanoutQueries {
  readonly #forEvent: Statement;
  readonly #forReplay: Statement;

  constructor(db: HubDb) {
    // A subscription sees every event when the key that created it (still unrevoked) has
    // EVENTS_ALL; otherwise only events of holders its partner watches.
    this.#forEvent = db.$client.prepare(`
      SELECT s.id FROM webhook_subscriptions s JOIN api_keys k ON k.id = s.key_id
      WHERE s.status = 'ACTIVE'
        AND instr(',' || s.event_types || ',', ',' || @type || ',') > 0
        AND ((k.revoked_at IS NULL AND instr(',' || k.scopes || ',', ',EVENTS_ALL,') > 0)
             OR EXISTS (SELECT 1 FROM watches w WHERE w.partner_id = s.partner_id AND w.holder_id = @holder))
      ORDER BY s.id`);
    this.#forReplay = db.$client.prepare(`
      SELECT e.sequence, e.type FROM events e
      WHERE e.sequence > @after
        AND instr(',' || @types || ',', ',' || e.type || ',') > 0
        AND (@all = 1 OR e.holder_id IN (SELECT holder_id FROM watches WHERE partner_id = @partner))
      ORDER BY e.sequence LIMIT @limit`);
  }

  subscriptionsFor(event: Pick<StoredEvent, "type" | "holderId">): string[] {
    return (this.#forEvent.all({ type: event.type, holder: event.holderId }) as { id: string }[]).map((row) => row.id);
  }

  eventsForReplay(args: { after: number; types: string; seesAll: boolean; partnerId: string; limit: number }): { sequence: number; type: string }[] {
    return this.#forReplay.all({ after: args.after, types: args.types, all: args.seesAll ? 1 : 0, partner: args.partnerId, limit: args.limit }) as {
      sequence: number;
      type: string;
    }[];
  }
}
