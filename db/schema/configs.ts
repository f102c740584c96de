import { sql } from "drizzle-orm";
import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { int } from "./columns";

/*
 * Versioned guardrail configs, in the Langfuse style: a version is an immutable row; a label
 * ("production", "staging", ...) points at one version and moves; rolling back is moving the label
 * back. Every generation records the version it ran under (requests.config_version), fixed at admission.
 * Immutability is the database's job, not a convention: triggers (migration *_guardrails_sql) refuse
 * UPDATE and DELETE on config_versions and on config_audit.
 */

/** One immutable config version. `version` counts from 1 in creation order; versions are never deleted. */
export const configVersions = sqliteTable(
  "config_versions",
  {
    version: int("version").primaryKey(),
    bodyJson: text("body_json").notNull(), // GuardrailConfig, camelCase, complete (no defaults left implicit)
    createdAtMs: int("created_at_ms").notNull(),
    author: text("author").notNull(),
    // The required change message (the column predates the name; every version since has one).
    message: text("note").notNull().default(""),
    // The version the editor started from; null for version 1 and for versions made by code.
    baseVersion: int("base_version"),
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

/**
 * Append-only audit log of every config change: a version created, a label created or moved, or the
 * runtime settings changed (db/queries/settings.ts), with who, when, and the state before and after (JSON). Never edited, never deleted (triggers).
 */
export const configAudit = sqliteTable(
  "config_audit",
  {
    // INTEGER PRIMARY KEY aliases the rowid; rows are never deleted, so ids only grow.
    id: int("id")
      .primaryKey()
      .$defaultFn(() => sql`NULL`),
    atMs: int("at_ms").notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(), // version.create | label.create | label.move | settings.update
    subject: text("subject").notNull(), // "v3" for a version, the label name for a label, "settings"
    beforeJson: text("before_json"), // null when the subject did not exist before
    afterJson: text("after_json").notNull(),
    message: text("message").notNull().default(""),
  },
  (t) => [index("config_audit_subject_idx").on(t.subject, t.id)],
);

export type ConfigVersionRow = typeof configVersions.$inferSelect;
export type ConfigLabelRow = typeof configLabels.$inferSelect;
export type ConfigAuditRow = typeof configAudit.$inferSelect;
