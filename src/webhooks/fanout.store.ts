import type { Statement } from "better-sqlite3";
import type { HubDb } from "../db/client.ts";
import { subscriptionReceivesSql } from "../events/event-visibility.ts";

/**
 * Which subscriptions receive which events: the types they named, and only what the key that
 * created them may see (the rule lives in events/event-visibility.ts).
 */
export class FanoutQueries {
  readonly #forEvent: Statement;
  readonly #forReplay: Statement;

  constructor(db: HubDb) {
    this.#forEvent = db.$client.prepare(`
      SELECT s.id FROM webhook_subscriptions s LEFT JOIN api_keys k ON k.id = s.key_id
      WHERE s.status = 'ACTIVE' AND ${subscriptionReceivesSql({ type: "@type", cardNumber: "@cardNumber", holderId: "@holder" })}
      ORDER BY s.id`);
    this.#forReplay = db.$client.prepare(`
      SELECT e.sequence, e.type FROM webhook_subscriptions s LEFT JOIN api_keys k ON k.id = s.key_id, events e
      WHERE s.id = @subscription AND e.sequence > @after
        AND ${subscriptionReceivesSql({ type: "e.type", cardNumber: "e.card_number", holderId: "e.holder_id" })}
      ORDER BY e.sequence LIMIT @limit`);
  }

  subscriptionsFor(event: { type: string; cardNumber: string; holderId: number }): string[] {
    const rows = this.#forEvent.all({ type: event.type, cardNumber: event.cardNumber, holder: event.holderId }) as { id: string }[];
    return rows.map((row) => row.id);
  }

  /** The events after `after` that the subscription receives, in sequence order. */
  eventsForReplay(args: { subscriptionId: string; after: number; limit: number }): { sequence: number; type: string }[] {
    return this.#forReplay.all({ subscription: args.subscriptionId, after: args.after, limit: args.limit }) as { sequence: number; type: string }[];
  }
}
