// `npm run db:migrate`: applies pending migrations to SPECLENS_DB (default ./data/speclens.db).
// The app also does this at start-up; the CLI exists for deploy pipelines and inspection.
import { openDatabase, resolveDatabasePath } from "./client";

const filePath = resolveDatabasePath();
const { migrations, sqlite } = openDatabase(filePath);
sqlite.close();
console.log(
  `${filePath}: applied ${migrations.appliedNow} migration(s); schema version ${migrations.applied} of ${migrations.available}`,
);
