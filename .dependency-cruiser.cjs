// The layout rules of the architecture (README, "Architecture"): one folder per concern, imports
// point down. `npm test` runs this check (npm run lint:deps); a broken rule fails the build.
//
// Order, lowest first:
//   kernel (src/*.ts, config/, db/, redis/, http/)
//   < card-numbers < partners < events < cards < verification | webhooks | imports < coverage < demo | dashboard
//   < app < api | jobs < cli
// From above, a domain may import only jobs/queues.ts (the producer contract) and the type of the
// request context (api/context.ts).

const KERNEL = "^src/(?!cli\\.ts$)[^/]+\\.ts$|^src/(config|db|redis|http)/";
const DOMAINS = ["card-numbers", "partners", "events", "cards", "verification|webhooks|imports", "coverage", "demo|dashboard"];
const COMPOSITION = "^src/(app|api|cli)/|^src/cli\\.ts$|^jobs/";
/** What a domain may take from above it. */
const SANCTIONED_UP = "^jobs/queues\\.ts$|^src/api/context\\.ts$";

const folder = (names) => `^src/(${names})/`;

/** Each domain level may not import any level above it, nor a sibling of its own level. */
function domainRules() {
  return DOMAINS.map((level, index) => {
    const above = DOMAINS.slice(index + 1);
    const siblings = level.split("|");
    const forbidden = [
      ...(above.length ? [folder(above.join("|"))] : []),
      COMPOSITION,
    ];
    return {
      name: `domain-order-${siblings.join("-")}`,
      comment: `${level} imports only what stands below it (card-numbers < partners < events < cards < verification, webhooks, imports < coverage < demo)`,
      severity: "error",
      from: { path: folder(level) },
      to: { path: forbidden.join("|"), pathNot: SANCTIONED_UP },
    };
  }).concat(
    DOMAINS.filter((level) => level.includes("|")).map((level) => {
      const names = level.split("|");
      return {
        name: `domain-siblings-${names.join("-")}`,
        comment: `${names.join(", ")} stand side by side: none imports another`,
        severity: "error",
        from: { path: folder("(" + level + ")") },
        to: { path: folder(level), pathNot: "^src/$1/" },
      };
    }),
  );
}

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "Files that import each other in a loop cannot be understood, tested or moved one at a time.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "kernel-imports-no-domain",
      comment: "The kernel (root files, config/, db/, redis/, http/) is imported by every domain and imports none.",
      severity: "error",
      from: { path: KERNEL },
      to: { path: `${folder("card-numbers|partners|events|cards|verification|webhooks|imports|coverage|demo|dashboard")}|${COMPOSITION}` },
    },
    {
      name: "card-numbers-pure",
      comment: "card-numbers/ is pure: no database, no Redis, no config, no other domain (today's date is passed in).",
      severity: "error",
      from: { path: "^src/card-numbers/" },
      to: { path: "^src/", pathNot: "^src/card-numbers/|^src/china-date\\.ts$|^src/http/scalars\\.ts$|^src/errors\\.ts$|^src/api/context\\.ts$" },
    },
    {
      name: "card-numbers-graphql-at-the-edge",
      comment: "In card-numbers/, only the GraphQL surface (*.types, *.enums, *.resolver) touches type-graphql, graphql and the request context.",
      severity: "error",
      from: { path: "^src/card-numbers/", pathNot: "\\.(types|enums|resolver)\\.ts$" },
      to: { path: "node_modules/(type-graphql|graphql)/|^src/http/scalars\\.ts$|^src/api/" },
    },
    ...domainRules(),
    {
      name: "request-context-type-only",
      comment: "Domains take only the type of the request context, never its code.",
      severity: "error",
      from: { path: folder(DOMAINS.join("|")) },
      to: { path: "^src/api/context\\.ts$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "app-below-roles",
      comment: "app/ wires services for both roles: it imports neither the api role nor the worker's processors.",
      severity: "error",
      from: { path: "^src/app/" },
      to: { path: "^src/(api|cli)/|^src/cli\\.ts$|^jobs/", pathNot: "^jobs/queues\\.ts$" },
    },
    {
      name: "api-and-worker-apart",
      comment: "The api role and the worker role share app/, not each other.",
      severity: "error",
      from: { path: "^src/api/" },
      to: { path: "^jobs/", pathNot: "^jobs/queues\\.ts$" },
    },
    {
      name: "worker-not-api",
      comment: "The worker role does not import the api role.",
      severity: "error",
      from: { path: "^jobs/" },
      to: { path: "^src/(api|cli)/|^src/cli\\.ts$" },
    },
    {
      name: "sql-in-store-files",
      comment: "Each domain's SQL lives in its store files (*.store.ts, *-queries.ts): only those and db/ take the table definitions or drizzle.",
      severity: "error",
      from: { path: "^src/|^jobs/", pathNot: "^src/db/|\\.store\\.ts$|-queries\\.ts$" },
      to: { path: "^src/db/schema\\.ts$|drizzle-orm" },
    },
    {
      name: "no-orphans",
      comment: "A source file nothing imports is dead code (entry points excepted).",
      severity: "error",
      from: {
        orphan: true,
        pathNot: "^src/cli\\.ts$|\\.d\\.ts$|^src/dashboard/assets/|^scripts/|\\.(json|cjs)$|^drizzle\\.config\\.ts$|^vitest\\.config\\.ts$",
      },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(test|dist|drizzle|schema|examples)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },

  },
};
