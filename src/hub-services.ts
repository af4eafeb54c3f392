import { CardLookup } from "./cards/card-lookup.ts";
import { RegisterContext } from "./cards/register-context.ts";
import type { HubDb } from "./db/client.ts";
import { ChangeFeed } from "./events/change-feed.ts";
import type { Digester } from "./hub-secret.ts";
import { ApiKeyService } from "./partners/api-keys.ts";
import { PartnerService } from "./partners/partner-service.ts";

/** The hub's services over one database, shared by GraphQL, the CLI and jobs. */
export interface HubServices {
  db: HubDb;
  register: RegisterContext;
  lookup: CardLookup;
  feed: ChangeFeed;
  partners: PartnerService;
  apiKeys: ApiKeyService;
}

export function createServices(db: HubDb, digester: Digester, now: () => Date = () => new Date()): HubServices {
  const register = new RegisterContext(db, digester, now);
  return {
    db,
    register,
    lookup: new CardLookup(register.queries, now),
    feed: new ChangeFeed(db),
    partners: new PartnerService(db, now),
    apiKeys: new ApiKeyService(db, now),
  };
}
