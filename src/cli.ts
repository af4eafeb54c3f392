import "reflect-metadata";
import { Command, CommanderError, Option } from "commander";
import { ConfigError, loadConfig } from "./config.ts";
import { asStorageUnavailable } from "./db/storage-errors.ts";
import { isHubError } from "./errors.ts";
import { RedisUnavailableError } from "./redis/find-redis.ts";
import { printBanner } from "./cli/banner.ts";
import { runCheck } from "./cli/check-command.ts";
import { runGenerate, type GenerateOptions } from "./cli/generate-command.ts";
import { runImport } from "./cli/import-command.ts";
import { INDUSTRIES } from "./partners/partner-service.ts";
import { ROLES } from "./partners/roles.ts";
import type { WorkerHandle } from "../jobs/worker.ts";
import type { ApiHandle } from "./hub.ts";
import { openServices } from "./open-services.ts";

/** Starts the chosen roles on one runtime; SIGTERM lets in-flight work finish, then exits. */
async function startRoles(roles: { api: boolean; worker: boolean }): Promise<void> {
  const config = loadConfig();
  // Loaded here: the other commands need neither GraphQL nor BullMQ, and start faster without.
  const [{ openRuntime }, { startApi }, { startWorker }, { startWorkerOps }] = await Promise.all([
    import("./runtime.ts"),
    import("./hub.ts"),
    import("../jobs/worker.ts"),
    import("./http/ops-routes.ts"),
  ]);
  const runtime = await openRuntime(config);
  // The api listens first: a worker's first sweep must not keep callers waiting.
  const api: ApiHandle | null = roles.api ? await startApi(runtime) : null;
  const worker: WorkerHandle | null = roles.worker ? await startWorker(runtime) : null;
  // The api serves the operations listener itself; a worker alone opens its own.
  const ops = api ? null : await startWorkerOps(runtime);
  if (api) printBanner(config, api, runtime.redis);
  else process.stdout.write(`fpr-hub worker running (Redis ${runtime.redis.source}${ops ? `; metrics at ${ops.url}/metrics` : ""}); stop with Ctrl-C\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // In-flight deliveries get a grace period; whatever is unfinished then is retried later.
    setTimeout(() => process.exit(0), 30_000).unref();
    Promise.all([api?.close(), worker?.close(), ops?.close()])
      .then(() => runtime.close())
      .finally(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
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
      const scopes = opts.scopes?.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
      const { apiKey, secret } = services.apiKeys.create({ role: opts.role, partnerId: opts.partner, scopes });
      console.log(`key ${apiKey.id} role ${apiKey.role} scopes ${apiKey.scopes.join(",") || "-"}`);
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
      services.db.$client.close();
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
  return program;
}

/** One-line reason and a non-zero exit for every failure the operator can act on. */
function fail(thrown: unknown): never {
  const error = asStorageUnavailable(thrown); // disk full, database busy: say so, without the SQL
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (isHubError(error) || error instanceof ConfigError || error instanceof RedisUnavailableError) {
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
