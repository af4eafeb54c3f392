import type { HubQueues } from "../../jobs/queues.ts";
import { CardLookup } from "../cards/card-lookup.ts";
import { HolderVerification } from "../verification/holder-verification.ts";
import { AuditLog, type AuditEntry } from "../partners/audit-log.ts";
import { ConformanceProbe } from "../coverage/conformance-probe.ts";
import { CoverageService } from "../coverage/coverage-service.ts";
import { FigureCache } from "../coverage/figure-cache.ts";
import { DeliveryHealth } from "../coverage/delivery-health.ts";
import { MigrationTimeline } from "../coverage/migration-timeline.ts";
import { EnumerationGuard } from "../partners/enumeration-guard.ts";
import { RateLimits } from "../partners/rate-limits.ts";
import { RegisterContext } from "../cards/register-context.ts";
import type { HubConfig } from "../config.ts";
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

/** The hub's services over one database, shared by GraphQL, the CLI and jobs; built once, never patched. */
export interface HubServices {
  readonly db: HubDb;
  readonly register: RegisterContext;
  readonly lookup: CardLookup;
  readonly feed: ChangeFeed;
  readonly partners: PartnerService;
  readonly apiKeys: ApiKeyService;
  readonly watchlist: Watchlist;
  readonly subscriptions: SubscriptionService;
  readonly fanout: FanoutQueries;
  /** What the hub still owes partners (owed_deliveries): the truth of delivery. */
  readonly ledger: DeliveryLedger;
  /** This database's identity and the guard on event ids (events/database-identity.ts). */
  readonly identity: DatabaseIdentity;
  readonly dispatch: WebhookDispatch;
  readonly audit: AuditLog;
  readonly coverage: CoverageService;
  readonly timeline: MigrationTimeline;
  readonly deliveryHealth: DeliveryHealth;
  readonly conformance: ConformanceProbe;
  readonly verification: HolderVerification;
  /** Where write paths report how their writes went (the runtime's storage monitor; a no-op in the CLI). */
  readonly storage: StorageReporter;
  /** With Redis (api and worker); the CLI works without them. */
  readonly queues: HubQueues | null;
  readonly limits: RateLimits | null;
  /** Refuses guessing many numbers of one stem (with Redis, like `limits`). */
  readonly enumeration: EnumerationGuard | null;
}

const DEFAULT_URL_POLICY: UrlPolicy = { requireHttps: false, allowCidrs: [] };

export interface ServiceSettings {
  urlPolicy: UrlPolicy;
  /** CloudEvents source and per-request timeout of probes. */
  probe: { sourceUri: string; timeoutMs: number };
  /** Told of storage failures and successes (src/db/storage-health.ts). */
  storage?: StorageReporter;
}

const DEFAULT_SETTINGS: ServiceSettings = { urlPolicy: DEFAULT_URL_POLICY, probe: { sourceUri: "urn:fpr-hub", timeoutMs: 10_000 } };

/** Everything the services are built with, in one call (app/runtime.ts, app/open-services.ts, tests). */
export interface ServiceOptions {
  db: HubDb;
  digester: Digester;
  now?: () => Date;
  settings?: ServiceSettings;
  /** Redis, when connected (api and worker): the queues, and the rate limits and enumeration guard kept beside them. */
  redis?: { queues: HubQueues; limits: HubConfig["limits"] };
  /** The outbox relay, kicked after a commit that logged events and after a replay owed deliveries again. */
  relay?: { kick(): void };
  /** Told of every audit record (the metrics' check and verification counters). */
  audit?: { onRecord(entry: AuditEntry): void };
}

type Connected = Pick<HubServices, "queues" | "limits" | "enumeration">;

const NOT_CONNECTED: Connected = { queues: null, limits: null, enumeration: null };

/** The Redis-backed services: rate limits and the enumeration guard share the queues' connection and prefix. */
function connect(redis: NonNullable<ServiceOptions["redis"]>, audit: AuditLog): Connected {
  const { queues, limits } = redis;
  const guard = { perStem: limits.enumerationPerStem, windowMs: limits.enumerationWindowSeconds * 1000 };
  return {
    queues,
    limits: new RateLimits(queues.connection, queues.prefix, limits),
    enumeration: new EnumerationGuard(queues.connection, queues.prefix, guard, audit),
  };
}

export function createServices(options: ServiceOptions): HubServices {
  const { db, digester, now = () => new Date(), settings = DEFAULT_SETTINGS, relay, audit: audited } = options;
  const urlPolicy = settings.urlPolicy;
  const storage = settings.storage ?? NO_STORAGE_REPORTER;
  const kick = relay ? () => relay.kick() : null;
  const register = new RegisterContext(db, digester, now, storage, kick);
  const audit = new AuditLog(db, digester, now, { storage, onRecord: audited && ((entry: AuditEntry) => audited.onRecord(entry)) });
  const connected = options.redis ? connect(options.redis, audit) : NOT_CONNECTED;
  const lookup = new CardLookup(register.queries, now, audit);
  const figures = new FigureCache(() => register.changeCount);
  const subscriptions = new SubscriptionService(db, new SecretBox(digester), urlPolicy, now);
  const fanout = new FanoutQueries(db);
  const ledger = new DeliveryLedger(db);
  return {
    db,
    register,
    lookup,
    audit,
    coverage: new CoverageService(db, now, figures),
    timeline: new MigrationTimeline(db, now, figures),
    deliveryHealth: new DeliveryHealth(db, ledger, now),
    conformance: new ConformanceProbe(db, subscriptions, urlPolicy, settings.probe, now),
    verification: new HolderVerification(lookup, register.queries, digester, audit, () => connected.limits),
    feed: new ChangeFeed(db),
    partners: new PartnerService(db, now),
    apiKeys: new ApiKeyService(db, now, storage),
    watchlist: new Watchlist(db, audit, now),
    subscriptions,
    fanout,
    ledger,
    identity: new DatabaseIdentity(db),
    dispatch: new WebhookDispatch(db, subscriptions, fanout, ledger, () => connected.queues ?? noQueues(), now, kick),
    storage,
    ...connected,
  };
}

/** Writes what the services hold in memory (audit records, key uses) before the database closes. */
export function closeServices(services: HubServices): void {
  services.audit.close();
  services.apiKeys.close();
}

function noQueues(): never {
  throw new HubError("INTERNAL_SERVER_ERROR", "the delivery queue is not connected in this process");
}
