import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { int } from "./columns";

/*
 * Versioned speculative configs (the body of a guardrail config), in the Langfuse style: a version is
 * an immutable row; a label ("production", "canary", ...) points at one version and moves; rolling back
 * is moving the label back. Every generation records the version it ran under (requests.config_version).
 */

/** One immutable config version. `version` counts from 1 in creation order; versions are never deleted. */
export const configVersions = sqliteTable(
  "config_versions",
  {
    version: int("version").primaryKey(),
    bodyJson: text("body_json").notNull(), // SpecConfig, camelCase, complete (no defaults left implicit)
    createdAtMs: int("created_at_ms").notNull(),
    author: text("author").notNull(),
    note: text("note").notNull().default(""),
  },
  (t) => [index("config_versions_created_idx").on(t.createdAtMs)],
);

/** A movable name for a version. */
export const configLabels = sqliteTable("config_labels", {
  label: text("label").primaryKey(),
  version: int("version")
    .notNull()
    .references(() => configVersions.version),
  updatedAtMs: int("updated_at_ms").notNull(),
  updatedBy: text("updated_by").notNull(),
});

export type ConfigVersionRow = typeof configVersions.$inferSelect;
export type ConfigLabelRow = typeof configLabels.$inferSelect;
