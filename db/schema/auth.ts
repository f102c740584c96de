import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { int } from "./columns";

/*
 * Who may use the dashboard and the API (app/_lib/auth.ts holds the policy). Secrets are never stored:
 * a password as its scrypt hash, a session token and an API key as their SHA-256, so a copy of the
 * database does not let anyone in.
 */

/** A dashboard user. `role` is "viewer" | "editor" | "admin". */
export const users = sqliteTable("users", {
  // A rowid alias: inserting NULL lets SQLite number it. Users and keys are never deleted, so ids are never reused.
  id: int("id").primaryKey().$defaultFn(() => null as unknown as number),
  name: text("name").notNull().unique(),
  role: text("role").notNull(),
  passwordHash: text("password_hash").notNull(), // "scrypt$N$r$p$<salt b64>$<hash b64>"
  disabled: int("disabled").notNull().default(0),
  createdAtMs: int("created_at_ms").notNull(),
  createdBy: text("created_by").notNull(),
});

/** A browser session; the cookie holds the token, the table its SHA-256. */
export const sessions = sqliteTable(
  "sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: int("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAtMs: int("created_at_ms").notNull(),
    expiresAtMs: int("expires_at_ms").notNull(),
    lastSeenAtMs: int("last_seen_at_ms").notNull(),
  },
  (t) => [index("sessions_user_idx").on(t.userId), index("sessions_expires_idx").on(t.expiresAtMs)],
);

/** An API key created on /settings. `role` is a role or "ingest"; revoked keys stay listed. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    // A rowid alias: inserting NULL lets SQLite number it. Users and keys are never deleted, so ids are never reused.
    id: int("id").primaryKey().$defaultFn(() => null as unknown as number),
    name: text("name").notNull(),
    role: text("role").notNull(),
    keyHash: text("key_hash").notNull().unique(), // sha256 hex of the whole key
    prefix: text("prefix").notNull(), // the first characters, to recognise a key in the list
    createdAtMs: int("created_at_ms").notNull(),
    createdBy: text("created_by").notNull(),
    lastUsedAtMs: int("last_used_at_ms"),
    revokedAtMs: int("revoked_at_ms"),
  },
  (t) => [index("api_keys_revoked_idx").on(t.revokedAtMs)],
);

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
