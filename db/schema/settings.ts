import { sqliteTable, text } from "drizzle-orm/sqlite-core";
import { int } from "./columns";

/*
 * Runtime settings an admin saves on /settings (or PATCH /api/settings): retention, the database size
 * cap, the global alert webhook. A row exists only for a setting that was saved; without one the
 * environment variable (the documented default) applies. Readers look the value up at each use (the
 * retention pass, each alert delivery), so a change applies without a restart. Every change is also
 * written to config_audit in the same transaction (db/queries/settings.ts).
 */
export const runtimeSettings = sqliteTable("runtime_settings", {
  /** retentionDays | maxDbMb | alertWebhook */
  key: text("key").primaryKey(),
  /** The value as JSON, validated on write and again on read. */
  valueJson: text("value_json").notNull(),
  updatedAtMs: int("updated_at_ms").notNull(),
  updatedBy: text("updated_by").notNull(),
});

export type RuntimeSettingRow = typeof runtimeSettings.$inferSelect;
