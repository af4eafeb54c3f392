import "reflect-metadata";
import { Command, CommanderError, Option } from "commander";
import { ConfigError, loadConfig } from "./config.ts";
import { closeDatabase } from "./db/client.ts";
import { asStorageUnavailable } from "./db/storage-errors.ts";
import { isHubError } from "./errors.ts";
import { RedisUnavailableError } from "./redis/find-redis.ts";
import { RedisDirInUseError } from "./redis/redis-child-lock.ts";
import { RedisRefusedError } from "./redis/redis-requirements.ts";
import { printBanner } from "./cli/banner.ts";
import { runCheck } from "./cli/check-command.ts";
import { runGenerate, type GenerateOptions } from "./cli/generate-command.ts";
import { runImport } from "./cli/import-command.ts";
import { runStoreCopy } from "./cli/store-command.ts";
import { StoreCopyError } from "./db/store-copy.ts";
import { INDUSTRIES } from "./partners/partner-service.ts";
import { formatScopes, readTypedScopes, ROLES } from "./partners/roles.ts";
import type { WorkerHandle } from "../jobs/worker.ts";
import type { ApiHandle } from "./api/start-api.ts";
import type { OpsListener } from "./api/ops-routes.ts";
import { openServices } from "./app/open-services.ts";
import { closeServices } from "./app/services.ts";
import { stopOnSignals } from "./cli/shutdown.ts";

/** Starts the chosen roles on one runtime; SIGTERM or SIGINT stops them (src/cli/shutdown.ts). */
async function startRoles(roles: { api: boolean; worker: boolean }): Promise<void> {
  const config = loadConfig();
  // Loaded here: the other commands need neither GraphQL nor BullMQ, and start faster without.
  const [{ openRuntime }, { startApi }, { startWorker }, { startWorkerOps }] = await Promise.all([
    import("./app/runtime.ts"),
    import("./api/start-api.ts"),
    import("../jobs/worker.ts"),
    import("./api/ops-routes.ts"),
  ]);
  const runtime = await openRuntime(config);
  let api: ApiHandle | null = null;
  let worker: WorkerHandle | null = null;
  let ops: OpsListener | null = null;
  // From here a signal stops what has started so far (the exit then ends whatever was still starting).
  stopOnSignals({
    health: runtime.health,
    log: runtime.log,
    graceMs: config.shutdownGraceMs,
    flushNow: () => closeServices(runtime.services),
    stages: () => [
      [
        ...(api ? [{ name: "api", close: api.close, describe: async () => `${await api!.openConnections()} connections open` }] : []),
        ...(worker ? [{ name: "worker", close: worker.close }] : []),
        ...(ops ? [{ name: "operations listener", close: ops.close }] : []),
      ],
      [{ name: "runtime (audit and key-use flush, queues, database, Redis)", close: runtime.close }],
    ],
  });
  // The api listens first: a worker's first sweep must not keep callers waiting.
  api = roles.api ? await startApi(runtime).catch((error) => closeAfter(error, runtime)) : null;
  worker = roles.worker ? await startWorker(runtime).catch((error) => closeAfter(error, runtime, api)) : null;
  // The api serves the operations listener itself; a worker alone opens its own.
  ops = api ? null : await startWorkerOps(runtime).catch((error) => closeAfter(error, runtime, api, worker));
  if (api) printBanner(config, api, runtime.redis);
  else process.stdout.write(`fpr-hub worker running (Redis ${runtime.redis.source}${ops ? `; metrics at ${ops.url}/metrics` : ""}); stop with Ctrl-C\n`);
}

/** A role failed to start: close what did start (a private redis-server above all), then fail with the original error. */
async function closeAfter(error: unknown, runtime: { close(): Promise<void> }, ...started: ({ close(): Promise<void> } | null)[]): Promise<never> {
  await Promise.all(started.map((part) => part?.close().catch(() => undefined)));
  await runtime.close().catch(() => undefined);
  throw error;
}

function buildProgram(): Command {
  const program = new Command("fpr-hub")
    .description("Status hub for Foreign Permanent Resident ID Cards (V2017 and V2023)")
    .showHelpAfterError("(run with --help for usage)");

  program.command("start").description("start the hub on this machine: api and worker together").action(() => startRoles({ api: true, worker: true }));
  program.command("api").description("start the api role alone: GraphQL, health endpoints").action(() => startRoles({ api: true, worker: false }));
  program.command("worker").description("start the worker role alone: outbox relay, webhook deliveries, expiry").action(() => startRoles({ api: false, worker: true }));

  const partner = program.command("partner").description("manage partners");
  partner
    .command("create")
    .description("register a partner organization; prints its id")
    .requiredOption("--name <name>", "organization name")
    .addOption(new Option("--industry <industry>", "industry served").choices(INDUSTRIES).makeOptionMandatory())
    .option("--province <code>", "GB/T 2260 two-digit province code")
    .action((opts: { name: string; industry: string; province?: string }) => {
      const services = openServices(loadConfig());
      const created = services.partners.create({ name: opts.name, industry: opts.industry, provinceCode: opts.province });
      console.log(created.id);
    });

  const key = program.command("key").description("manage API keys");
  key
    .command("create")
    .description("create an API key; the secret is the last line of output, shown once")
    .addOption(new Option("--role <role>", "the key's role").choices(ROLES).makeOptionMandatory())
    .option("--partner <id>", "partner id (required for PARTNER keys)")
    .option("--scopes <list>", "comma-separated scopes, a subset of the role's")
    .action((opts: { role: (typeof ROLES)[number]; partner?: string; scopes?: string }) => {
      const services = openServices(loadConfig());
      const scopes = opts.scopes === undefined ? undefined : readTypedScopes(opts.scopes);
      const { apiKey, secret } = services.apiKeys.create({ role: opts.role, partnerId: opts.partner, scopes });
      console.log(`key ${apiKey.id} role ${apiKey.role} scopes ${formatScopes(apiKey.scopes) || "-"}`);
      console.log(secret);
    });
  key
    .command("revoke")
    .description("revoke an API key at once")
    .argument("<id>", "key id (key_…)")
    .action((id: string) => {
      const revoked = openServices(loadConfig()).apiKeys.revoke(id);
      console.log(`revoked ${revoked.id} at ${revoked.revokedAt}`);
    });

  program
    .command("check")
    .description("check one card number against the register")
    .argument("<number>", "the card number as typed")
    .option("--issue-count <n>", "the instance to check (from the chip)")
    .option("--json", "print the full answer as JSON")
    .action((number: string, opts: { issueCount?: string; json?: boolean }) => runCheck(openServices(loadConfig()), number, opts));
  program
    .command("import")
    .description("load an NDJSON or CSV register file through the issuer rules; exit 3 when rows were rejected")
    .argument("<file>", "the file (.ndjson or .csv; see README for the record format)")
    .option("--format <format>", "ndjson or csv (default: from the file name)")
    .option("--no-events", "first load of an empty register: log no events")
    .option("--rejects <file>", "where rejected rows go (default FILE.rejects.ndjson)")
    .action(async (file: string, opts: { format?: string; events: boolean; rejects?: string }) => {
      const services = openServices(loadConfig());
      const code = await runImport(services, file, opts);
      closeDatabase(services.db);
      process.exitCode = code;
    });

  program
    .command("generate")
    .description("write a deterministic synthetic register file (both versions, switches, lost, revoked, expired)")
    .requiredOption("--cards <n>", "how many card instances")
    .option("--seed <n>", "random seed", "1")
    .option("--as-of <date>", "last date a card may start (default today in China)")
    .option("--format <format>", "ndjson or csv (default: from --out, else ndjson)")
    .option("--out <file>", "write here instead of standard output")
    .action((opts: GenerateOptions) => runGenerate(opts));

  const store = program.command("store").description("manage the hub's store");
  store
    .command("copy")
    .description("copy the whole store from this hub's SQLite database into an empty PostgreSQL database (stop the hub first)")
    .requiredOption("--to <url>", "the target database: postgres://user:password@host:port/database")
    .action((opts: { to: string }) => runStoreCopy(loadConfig(), opts.to));
  return program;
}

/** One-line reason and a non-zero exit for every failure the operator can act on. */
function fail(thrown: unknown): never {
  // Already one line naming the problem, and PostgreSQL's failures are not this hub's storage trouble.
  if (thrown instanceof StoreCopyError) {
    process.stderr.write(`fpr-hub: store copy: ${thrown.message}\n`);
    process.exit(1);
  }
  const error = asStorageUnavailable(thrown); // disk full, database busy: say so, without the SQL
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (isHubError(error) || error instanceof ConfigError || error instanceof RedisUnavailableError || error instanceof RedisDirInUseError || error instanceof RedisRefusedError) {
    process.stderr.write(`fpr-hub: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`fpr-hub: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

try {
  await buildProgram().exitOverride().parseAsync(process.argv);
} catch (error) {
  fail(error);
}
