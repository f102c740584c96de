import { asc, eq, sql } from "drizzle-orm";
import { DEFAULT_SPEC_CONFIG, parseSpecConfig, type SpecConfig } from "@/engine";
import type { SpecLensDb } from "../client";
import { configLabels, configVersions, type ConfigLabelRow, type ConfigVersionRow } from "../schema";

/*
 * Config versions and labels (see db/schema/configs.ts). A fresh database gets version 1, the engine's
 * defaults, labelled "production", the first time a config is resolved, so every generation runs under
 * a recorded version from the start.
 */

export const DEFAULT_CONFIG_LABEL = "production";

export interface ResolvedConfig {
  version: number;
  /** The label the selector named, or null when it named a version. */
  label: string | null;
  config: SpecConfig;
}

export function ensureDefaultConfig(db: SpecLensDb): void {
  db.transaction((tx) => {
    const now = Date.now();
    tx.insert(configVersions)
      .values({ version: 1, bodyJson: JSON.stringify(DEFAULT_SPEC_CONFIG), createdAtMs: now, author: "speclens", note: "engine defaults" })
      .onConflictDoNothing()
      .run();
    tx.insert(configLabels).values({ label: DEFAULT_CONFIG_LABEL, version: 1, updatedAtMs: now, updatedBy: "speclens" }).onConflictDoNothing().run();
  });
}

/** A stored body, parsed with the engine's one schema: fields added since it was written get today's defaults. */
function parseBody(row: ConfigVersionRow): SpecConfig {
  try {
    return parseSpecConfig(JSON.parse(row.bodyJson));
  } catch (error) {
    throw new Error(`config version ${row.version} is not a valid config: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The config a selector names: undefined means the "production" label; a number, or a string of
 * digits (optionally "v3"), a version; anything else a label. null when no such version or label.
 */
export function resolveConfig(db: SpecLensDb, selector?: string | number): ResolvedConfig | null {
  ensureDefaultConfig(db);
  const wanted = selector ?? DEFAULT_CONFIG_LABEL;
  const asVersion = typeof wanted === "number" ? wanted : /^v?\d+$/.test(wanted) ? Number(wanted.replace(/^v/, "")) : null;
  let version: number;
  let label: string | null = null;
  if (asVersion !== null) {
    version = asVersion;
  } else {
    const row = db.select().from(configLabels).where(eq(configLabels.label, String(wanted))).get();
    if (!row) return null;
    version = row.version;
    label = row.label;
  }
  const row = db.select().from(configVersions).where(eq(configVersions.version, version)).get();
  return row ? { version: row.version, label, config: parseBody(row) } : null;
}

/** Store a new immutable version, numbered one past the latest; returns its number. */
export function createConfigVersion(db: SpecLensDb, config: SpecConfig, author: string, note = ""): number {
  // Only bodies the schema accepts are stored (throws SpecConfigError naming the field otherwise).
  const body = parseSpecConfig(config);
  ensureDefaultConfig(db);
  return db.transaction((tx) => {
    const latest = tx.select({ version: sql<bigint>`max(${configVersions.version})` }).from(configVersions).get();
    const version = Number(latest?.version ?? 0) + 1;
    tx.insert(configVersions).values({ version, bodyJson: JSON.stringify(body), createdAtMs: Date.now(), author, note }).run();
    return version;
  });
}

/** Point a label at a version (creating the label or moving it). */
export function setConfigLabel(db: SpecLensDb, label: string, version: number, by: string): void {
  const now = Date.now();
  db.insert(configLabels)
    .values({ label, version, updatedAtMs: now, updatedBy: by })
    .onConflictDoUpdate({ target: configLabels.label, set: { version, updatedAtMs: now, updatedBy: by } })
    .run();
}

export function listConfigLabels(db: SpecLensDb): ConfigLabelRow[] {
  ensureDefaultConfig(db);
  return db.select().from(configLabels).orderBy(asc(configLabels.label)).all();
}
