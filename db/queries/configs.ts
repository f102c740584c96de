import { and, asc, desc, eq, gt, lt, sql } from "drizzle-orm";
import { DEFAULT_GUARDRAIL_CONFIG, diffConfigs, parseGuardrailConfig, specPart, type ConfigChange, type GuardrailConfig, type SpecConfig } from "@/engine";
import type { SpecLensDb } from "../client";
import { configAudit, configLabels, configVersions, type ConfigAuditRow, type ConfigLabelRow, type ConfigVersionRow } from "../schema";

/*
 * The guardrail config store (see db/schema/configs.ts). A fresh database gets version 1, the
 * defaults, labelled "production", the first time a config is resolved, so every generation runs
 * under a recorded version from the start. Every change (a version created, a label created or
 * moved) writes an audit row in the same transaction; writes that check state first (stale base,
 * expected label version) run in one IMMEDIATE transaction, so no other writer slips in between.
 */

export const DEFAULT_CONFIG_LABEL = "production";

/** Labels that need an explicit confirmation (and the protected-label permission) to move. */
export function protectedLabels(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.SPECLENS_PROTECTED_LABELS;
  if (raw === undefined) return [DEFAULT_CONFIG_LABEL];
  return raw.split(",").map((l) => l.trim()).filter((l) => l !== "");
}

/** A label is a name, never something a selector would read as a version number. */
export const LABEL_PATTERN = /^(?!v?\d+$)[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ResolvedConfig {
  version: number;
  /** The label the selector named, or null when it named a version. */
  label: string | null;
  /** The policy the engine runs (the SpecConfig part of the version). */
  config: SpecConfig;
  /** The whole version: the policy plus its rules (fallback, load, limits, alerts). */
  guardrail: GuardrailConfig;
}

export interface VersionInfo {
  version: number;
  config: GuardrailConfig;
  message: string;
  author: string;
  createdAtMs: number;
  baseVersion: number | null;
  labels: string[];
}

export interface AuditEntry {
  id: number;
  atMs: number;
  actor: string;
  action: string;
  subject: string;
  before: unknown;
  after: unknown;
  message: string;
}

type Tx = Parameters<Parameters<SpecLensDb["transaction"]>[0]>[0];

/** One row of the audit log; the caller's transaction makes it part of the change it records. */
export function appendAudit(tx: Tx | SpecLensDb, entry: Omit<AuditEntry, "id" | "atMs">, atMs: number): void {
  tx.insert(configAudit)
    .values({
      atMs, actor: entry.actor, action: entry.action, subject: entry.subject, message: entry.message,
      beforeJson: entry.before === null ? null : JSON.stringify(entry.before), afterJson: JSON.stringify(entry.after),
    })
    .run();
}

const versionSubject = (v: number) => `v${v}`;

export function ensureDefaultConfig(db: SpecLensDb): void {
  if (db.select({ v: configVersions.version }).from(configVersions).where(eq(configVersions.version, 1)).get()) return;
  db.transaction(
    (tx) => {
      const now = Date.now();
      const created = tx.insert(configVersions)
        .values({ version: 1, bodyJson: JSON.stringify(DEFAULT_GUARDRAIL_CONFIG), createdAtMs: now, author: "speclens", message: "defaults" })
        .onConflictDoNothing()
        .run();
      if (created.changes === 0) return;
      appendAudit(tx, { actor: "speclens", action: "version.create", subject: versionSubject(1), before: null, after: { version: 1, config: DEFAULT_GUARDRAIL_CONFIG }, message: "defaults" }, now);
      const labelled = tx.insert(configLabels).values({ label: DEFAULT_CONFIG_LABEL, version: 1, updatedAtMs: now, updatedBy: "speclens" }).onConflictDoNothing().run();
      if (labelled.changes > 0) {
        appendAudit(tx, { actor: "speclens", action: "label.create", subject: DEFAULT_CONFIG_LABEL, before: null, after: { version: 1 }, message: "" }, now);
      }
    },
    { behavior: "immediate" },
  );
}

function parseBody(row: ConfigVersionRow): GuardrailConfig {
  try {
    return parseGuardrailConfig(JSON.parse(row.bodyJson));
  } catch (error) {
    throw new Error(`config version ${row.version} is not a valid config: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A version number from a selector: 3, "3" or "v3"; null when it is a label. */
export function selectorVersion(selector: string | number): number | null {
  if (typeof selector === "number") return selector;
  return /^v?\d+$/.test(selector) ? Number(selector.replace(/^v/, "")) : null;
}

/**
 * The config a selector names: undefined means the "production" label; a number, or a string of
 * digits (optionally "v3"), a version; anything else a label. null when no such version or label.
 * The caller keeps the returned config for the whole request: that is what fixes the version at admission.
 */
export function resolveConfig(db: SpecLensDb, selector?: string | number): ResolvedConfig | null {
  ensureDefaultConfig(db);
  const wanted = selector ?? DEFAULT_CONFIG_LABEL;
  let version = selectorVersion(wanted);
  let label: string | null = null;
  if (version === null) {
    const row = db.select().from(configLabels).where(eq(configLabels.label, String(wanted))).get();
    if (!row) return null;
    version = row.version;
    label = row.label;
  }
  const row = db.select().from(configVersions).where(eq(configVersions.version, version)).get();
  if (!row) return null;
  const guardrail = parseBody(row);
  return { version: row.version, label, config: specPart(guardrail), guardrail };
}

function labelsByVersion(db: SpecLensDb): Map<number, string[]> {
  const map = new Map<number, string[]>();
  for (const l of db.select().from(configLabels).orderBy(asc(configLabels.label)).all()) map.set(l.version, [...(map.get(l.version) ?? []), l.label]);
  return map;
}

function toInfo(row: ConfigVersionRow, labels: Map<number, string[]>): VersionInfo {
  return {
    version: row.version, config: parseBody(row), message: row.message, author: row.author, createdAtMs: row.createdAtMs,
    baseVersion: row.baseVersion ?? null, labels: labels.get(row.version) ?? [],
  };
}

/** Every version, newest first, with the labels that point at it. */
export function listConfigVersions(db: SpecLensDb): VersionInfo[] {
  ensureDefaultConfig(db);
  const labels = labelsByVersion(db);
  return db.select().from(configVersions).orderBy(desc(configVersions.version)).all().map((r) => toInfo(r, labels));
}

export function getConfigVersion(db: SpecLensDb, version: number): VersionInfo | null {
  ensureDefaultConfig(db);
  const row = db.select().from(configVersions).where(eq(configVersions.version, version)).get();
  return row ? toInfo(row, labelsByVersion(db)) : null;
}

export function listConfigLabels(db: SpecLensDb): ConfigLabelRow[] {
  ensureDefaultConfig(db);
  return db.select().from(configLabels).orderBy(asc(configLabels.label)).all();
}

function insertVersion(tx: Tx, config: GuardrailConfig, author: string, message: string, baseVersion: number | null): number {
  const latest = tx.select({ version: sql<bigint>`max(${configVersions.version})` }).from(configVersions).get();
  const version = Number(latest?.version ?? 0) + 1;
  const now = Date.now();
  tx.insert(configVersions).values({ version, bodyJson: JSON.stringify(config), createdAtMs: now, author, message, baseVersion }).run();
  appendAudit(tx, { actor: author, action: "version.create", subject: versionSubject(version), before: baseVersion === null ? null : { version: baseVersion }, after: { version, config }, message }, now);
  return version;
}

/**
 * Store a new immutable version made by code (no editor, so no base to be stale); returns its number.
 * Fields the config leaves out get the defaults; an invalid config throws.
 */
export function createConfigVersion(db: SpecLensDb, config: Partial<GuardrailConfig>, author: string, message = ""): number {
  ensureDefaultConfig(db);
  const complete = parseGuardrailConfig(config);
  return db.transaction((tx) => insertVersion(tx, complete, author, message, null), { behavior: "immediate" });
}

/** Why a save from an editor was refused: its base is stale, and what changed since. */
export interface StaleBase {
  reason: "label-moved" | "base-superseded";
  baseVersion: number;
  /** The label the editor opened (label-moved), now pointing at currentVersion. */
  label: string | null;
  /** The version that now stands where the editor's base stood. */
  currentVersion: number;
  changedBy: string;
  changedAtMs: number;
  /** Field by field, from the editor's base to currentVersion. */
  changes: ConfigChange[];
}

export type SaveResult =
  | { kind: "created"; version: number }
  | { kind: "stale"; stale: StaleBase }
  | { kind: "no-base"; param: "baseVersion" | "baseLabel"; message: string };

export interface SaveRequest {
  config: GuardrailConfig;
  message: string;
  author: string;
  /** The version the editor opened. */
  baseVersion: number;
  /** The label the editor opened it through, if any: the save is stale once that label has moved. */
  baseLabel?: string | null;
}

/**
 * Save a version from an editor. Stale when the label the editor opened has moved since, or (without
 * a label) when another version was already built on the same base: saving anyway would silently
 * drop that change. The check and the insert run in one IMMEDIATE transaction.
 */
export function saveConfigVersion(db: SpecLensDb, req: SaveRequest): SaveResult {
  ensureDefaultConfig(db);
  return db.transaction(
    (tx): SaveResult => {
      const base = tx.select().from(configVersions).where(eq(configVersions.version, req.baseVersion)).get();
      if (!base) return { kind: "no-base", param: "baseVersion", message: `baseVersion: there is no version ${req.baseVersion}` };
      let current: { version: number; by: string; atMs: number } | null = null;
      let reason: StaleBase["reason"] = "base-superseded";
      if (req.baseLabel) {
        const label = tx.select().from(configLabels).where(eq(configLabels.label, req.baseLabel)).get();
        if (!label) return { kind: "no-base", param: "baseLabel", message: `baseLabel: there is no label ${JSON.stringify(req.baseLabel)}` };
        if (label.version !== req.baseVersion) {
          current = { version: label.version, by: label.updatedBy, atMs: label.updatedAtMs };
          reason = "label-moved";
        }
      } else {
        const sibling = tx.select().from(configVersions)
          .where(and(eq(configVersions.baseVersion, req.baseVersion), gt(configVersions.version, req.baseVersion)))
          .orderBy(desc(configVersions.version)).get();
        if (sibling) current = { version: sibling.version, by: sibling.author, atMs: sibling.createdAtMs };
      }
      if (current) {
        const now = tx.select().from(configVersions).where(eq(configVersions.version, current.version)).get()!;
        return {
          kind: "stale",
          stale: {
            reason, baseVersion: req.baseVersion, label: req.baseLabel ?? null, currentVersion: current.version,
            changedBy: current.by, changedAtMs: current.atMs, changes: diffConfigs(parseBody(base), parseBody(now)),
          },
        };
      }
      return { kind: "created", version: insertVersion(tx, req.config, req.author, req.message, req.baseVersion) };
    },
    { behavior: "immediate" },
  );
}

export type MoveResult =
  | { kind: "moved"; label: string; from: number | null; to: number }
  | { kind: "unchanged"; label: string; to: number }
  | { kind: "no-version"; message: string }
  | { kind: "stale"; label: string; expectedVersion: number; currentVersion: number; changedBy: string; changedAtMs: number };

export interface MoveRequest {
  label: string;
  version: number;
  actor: string;
  /** Where the mover saw the label: refused (stale) if it has moved since. */
  expectedVersion?: number | null;
  message?: string;
}

/** Point a label at a version (creating the label or moving it), audited. Protection is the caller's check. */
export function moveConfigLabel(db: SpecLensDb, req: MoveRequest): MoveResult {
  ensureDefaultConfig(db);
  return db.transaction(
    (tx): MoveResult => {
      if (!tx.select({ v: configVersions.version }).from(configVersions).where(eq(configVersions.version, req.version)).get()) {
        return { kind: "no-version", message: `version: there is no version ${req.version}` };
      }
      const existing = tx.select().from(configLabels).where(eq(configLabels.label, req.label)).get();
      if (req.expectedVersion != null && existing?.version !== req.expectedVersion) {
        return {
          kind: "stale", label: req.label, expectedVersion: req.expectedVersion, currentVersion: existing?.version ?? 0,
          changedBy: existing?.updatedBy ?? "", changedAtMs: existing?.updatedAtMs ?? 0,
        };
      }
      if (existing?.version === req.version) return { kind: "unchanged", label: req.label, to: req.version };
      const now = Date.now();
      tx.insert(configLabels)
        .values({ label: req.label, version: req.version, updatedAtMs: now, updatedBy: req.actor })
        .onConflictDoUpdate({ target: configLabels.label, set: { version: req.version, updatedAtMs: now, updatedBy: req.actor } })
        .run();
      appendAudit(tx, {
        actor: req.actor, action: existing ? "label.move" : "label.create", subject: req.label,
        before: existing ? { version: existing.version } : null, after: { version: req.version }, message: req.message ?? "",
      }, now);
      return { kind: "moved", label: req.label, from: existing?.version ?? null, to: req.version };
    },
    { behavior: "immediate" },
  );
}

/** Shorthand used by code and tests: move a label without the editor's checks. */
export function setConfigLabel(db: SpecLensDb, label: string, version: number, by: string): void {
  const result = moveConfigLabel(db, { label, version, actor: by });
  if (result.kind === "no-version") throw new Error(result.message);
}

/** Where a label pointed before its last move (what a rollback moves it back to), or null. */
export function previousLabelVersion(db: SpecLensDb, label: string): number | null {
  const row = db.select().from(configAudit)
    .where(and(eq(configAudit.subject, label), eq(configAudit.action, "label.move")))
    .orderBy(desc(configAudit.id)).get();
  if (!row?.beforeJson) return null;
  return (JSON.parse(row.beforeJson) as { version: number }).version;
}

export interface VersionDiff {
  from: number;
  to: number;
  changes: ConfigChange[];
}

export function diffConfigVersions(db: SpecLensDb, from: number, to: number): VersionDiff | { missing: number } {
  const a = getConfigVersion(db, from);
  if (!a) return { missing: from };
  const b = getConfigVersion(db, to);
  if (!b) return { missing: to };
  return { from, to, changes: diffConfigs(a.config, b.config) };
}

function toEntry(row: ConfigAuditRow): AuditEntry {
  return {
    id: row.id, atMs: row.atMs, actor: row.actor, action: row.action, subject: row.subject, message: row.message,
    before: row.beforeJson === null ? null : JSON.parse(row.beforeJson), after: JSON.parse(row.afterJson),
  };
}

/** The audit log (or one action's entries), newest first; pass the last entry's id as `before` for the next page. */
export function listAudit(db: SpecLensDb, options: { limit?: number; before?: number; action?: string } = {}): { entries: AuditEntry[]; nextBefore: number | null } {
  ensureDefaultConfig(db);
  const limit = options.limit ?? 50;
  const rows = db.select().from(configAudit)
    .where(and(
      options.before !== undefined ? lt(configAudit.id, options.before) : undefined,
      options.action !== undefined ? eq(configAudit.action, options.action) : undefined,
    ))
    .orderBy(desc(configAudit.id)).limit(limit + 1).all();
  const page = rows.slice(0, limit).map(toEntry);
  return { entries: page, nextBefore: rows.length > limit ? page[page.length - 1].id : null };
}
