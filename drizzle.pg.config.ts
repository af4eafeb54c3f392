import { defineConfig } from "drizzle-kit";

// The PostgreSQL dialect's migrations; drizzle.config.ts holds SQLite's. `npm run db:generate` runs both.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/pg-schema.ts",
  out: "./drizzle/pg",
});
