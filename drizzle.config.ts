import { defineConfig } from "drizzle-kit";

// `npm run db:generate` diffs db/schema against the last snapshot in db/migrations and writes
// a new SQL migration there. Migrations are committed and applied by db/migrate.ts.
export default defineConfig({
  dialect: "sqlite",
  schema: "./db/schema/index.ts",
  out: "./db/migrations",
  dbCredentials: { url: process.env.SPECLENS_DB ?? "./data/speclens.db" },
  strict: true,
  verbose: true,
});
