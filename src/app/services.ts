import type { HubQueues } from "../../jobs/queues.ts";
import { CardLookup } from "../cards/card-lookup.ts";
import { HolderVerification } from "../verification/holder-verification.ts";
import { AuditLog } from "../partners/audit-log.ts";
import { ConformanceProbe } from "../coverage/conformance-probe.ts";
import { CoverageService } from "../coverage/coverage-service.ts";
import { FigureCache } from "../coverage/figure-cache.ts";
import { DeliveryHealth } from "../coverage/delivery-health.ts";
import { MigrationTimeline } from "../coverage/migration-timeline.ts";
import type { EnumerationGuard } from "../partners/enumeration-guard.ts";
import type { RateLimits } from "../partners/rate-limits.ts";
import { RegisterContext } from "../cards/register-context.ts";
import type { HubDb } from "../db/client.ts";
import { NO_STORAGE_REPORTER, type StorageReporter } from "../db/storage-errors.ts";
import { HubError } from "../errors.ts";
import { ChangeFeed } from "../events/change-feed.ts";
import type { Digester } from "../hub-secret.ts";
import { ApiKeyService } from "../partners/api-keys.ts";
import { PartnerService } from "../partners/partner-service.ts";
import { Watchlist } from "../webhooks/watchlist.ts";
import { FanoutQueries } from "../webhooks/fanout.store.ts";
import { SecretBox } from "../webhooks/secret-box.ts";
import { SubscriptionService } from "../webhooks/subscription-service.ts";
import type { UrlPolicy } from "../webhooks/url-safety.ts";
import { WebhookDispatch } from "../webhooks/webhook-dispatch.ts";
import { DeliveryLedger } from "../webhooks/delivery-ledger.store.ts";
import { DatabaseIdentity } from "../events/database-identity.ts";

/** The hub's services over one database, shared by GraphQL, the CLI and jobs. */
export interface HubServices {
  db: HubDb;
  register: RegisterContext;
  lookup: CardLookup;
  feed: ChangeFeed;
  partners: PartnerService;
  apiKeys: ApiKeyService;
  watchlist: Watchlist;
  subscriptions: SubscriptionService;
  fanout: FanoutQueries;
  /** What the hub still owes partners (owed_deliveries): the truth of delivery. */
  ledger: DeliveryLedger;
  /** This database's identity and the guard on event ids (events/database-identity.ts). */
  identity: DatabaseIdentity;
  dispatch: WebhookDispatch;
  audit: AuditLog;
  coverage: CoverageService;
  timeline: MigrationTimeline;
  deliveryHealth: DeliveryHealth;
  conformance: ConformanceProbe;
  verification: HolderVerification;
  /** Where write paths report how their writes went (the runtime's storage monitor; a no-op in the CLI). */
  storage: StorageReporter;
  /** Set once Redis is connected (api and worker); the CLI works without them. */
  queues: HubQueues | null;
  limits: RateLimits | null;
  /** Refuses guessing many numbers of one stem (set with Redis, like `limits`). */
  enumeration: EnumerationGuard | null;
}

export const DEFAULT_URL_POLICY: UrlPolicy = { requireHttps: false, allowCidrs: [] };

export interface ServiceSettings {
  urlPolicy: UrlPolicy;
  /** CloudEvents source and per-request timeout of probes. */
  probe: { sourceUri: string; timeoutMs: number };
  /** Told of storage failures and successes (src/health/storage-health.ts). */
  storage?: StorageReporter;
}

export const DEFAULT_SETTINGS: ServiceSettings = { urlPolicy: DEFAULT_URL_POLICY, probe: { sourceUri: "urn:fpr-hub", timeoutMs: 10_000 } };

export function createServices(db: HubDb, digester: Digester, now: () => Date = () => new Date(), settings = DEFAULT_SETTINGS): HubServices {
  const urlPolicy = settings.urlPolicy;
  const storage = settings.storage ?? NO_STORAGE_REPORTER;
  const register = new RegisterContext(db, digester, now, storage);
  const audit = new AuditLog(db, digester, now, { storage });
  const lookup = new CardLookup(register.queries, now, audit);
  const figures = new FigureCache(() => register.changeCount);
  const subscriptions = new SubscriptionService(db, new SecretBox(digester), urlPolicy, now);
  const fanout = new FanoutQueries(db);
  const ledger = new DeliveryLedger(db);
  const services: HubServices = {
    db,
    register,
    lookup,
    audit,
    coverage: new CoverageService(db, now, figures),
    timeline: new MigrationTimeline(db, now, figures),
    deliveryHealth: new DeliveryHealth(db, ledger, now),
    conformance: new ConformanceProbe(db, subscriptions, urlPolicy, settings.probe, now),
    verification: new HolderVerification(lookup, register.queries, digester, audit, () => services.limits),
    feed: new ChangeFeed(db),
    partners: new PartnerService(db, now),
    apiKeys: new ApiKeyService(db, now, storage),
    watchlist: new Watchlist(db, audit, now),
    subscriptions,
    fanout,
    ledger,
    identity: new DatabaseIdentity(db),
    dispatch: new WebhookDispatch(db, subscriptions, fanout, ledger, () => services.queues ?? noQueues(), now),
    storage,
    queues: null,
    limits: null,
    enumeration: null,
  };
  return services;
}

/** Writes what the services hold in memory (audit records, key uses) before the database closes. */
export function closeServices(services: HubServices): void {
  services.audit.close();
  services.apiKeys.close();
}

function noQueues(): never {
  throw new HubError("INTERNAL_SERVER_ERROR", "the delivery queue is not connected in this process");
}
