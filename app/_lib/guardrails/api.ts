import "server-only";
import { z } from "zod";
import type { SpecLensDb } from "@/db/client";
import type { VersionFigures } from "@/db/queries/config-figures";
import { getConfigVersion, type VersionInfo } from "@/db/queries/configs";
import { alertWebhookFields, mergeGuardrailConfig, validateGuardrailConfig, type FieldIssue, type GuardrailConfig } from "@/engine";
import { jsonResponse } from "../http";
import { restoreMaskedWebhooks } from "./webhook-visibility";

/*
 * Shared pieces of the guardrail JSON API (/api/guardrails/*, /api/audit): request bodies, the
 * version's wire shape, the actor recorded in the audit log, and the 400 that names every bad field.
 */

export const createBodySchema = z.strictObject({
  /** The new config; fields left out keep the base version's values (nested groups field by field). */
  config: z.record(z.string(), z.unknown()),
  message: z.string().trim().min(1, "a message saying why is required").max(1000),
  baseVersion: z.number().int().min(1),
  /** The label the editor opened the base through: the save is refused (409) once it has moved. */
  baseLabel: z.string().min(1).max(64).nullable().optional(),
});

export const moveBodySchema = z.strictObject({
  version: z.number().int().min(1),
  /** Where the mover saw the label; refused (409) if it has moved since. */
  expectedVersion: z.number().int().min(1).nullable().optional(),
  /** The label's name, typed again: required to move a protected label. */
  confirm: z.string().optional(),
  message: z.string().max(1000).optional(),
});

export function versionJson(v: VersionInfo, figures?: VersionFigures) {
  return {
    version: v.version,
    config: v.config,
    message: v.message,
    author: v.author,
    createdAt: new Date(v.createdAtMs).toISOString(),
    baseVersion: v.baseVersion,
    labels: v.labels,
    ...(figures !== undefined ? { figures } : {}),
  };
}

/** 400 with every offending field: `issues` lists { path, message }, `param` names the first. */
export function issuesResponse(issues: FieldIssue[], prefix = "config."): Response {
  const named = issues.map((i) => ({ path: i.path ? prefix + i.path : prefix.replace(/\.$/, ""), message: i.message }));
  return jsonResponse(
    {
      error: { message: named.map((i) => `${i.path}: ${i.message}`).join("; "), type: "invalid_request_error", param: named[0]?.path ?? null, code: "invalid_config" },
      issues: named,
    },
    { status: 400 },
  );
}

export type CandidateResult = { ok: true; config: GuardrailConfig; base: VersionInfo } | { ok: false; response: Response };

/** The candidate config: `patch` laid over the base version, validated. */
export function candidateConfig(db: SpecLensDb, baseVersion: number, patch: Record<string, unknown>): CandidateResult | { ok: false; missingBase: true } {
  const base = getConfigVersion(db, baseVersion);
  if (!base) return { ok: false, missingBase: true };
  // A caller shown masked webhook URLs sends them back masked: those keep the base's hooks.
  const parsed = validateGuardrailConfig(restoreMaskedWebhooks(mergeGuardrailConfig(base.config, patch), base.config));
  if (!parsed.ok) return { ok: false, response: issuesResponse(parsed.issues) };
  return { ok: true, config: parsed.config, base };
}

/**
 * The webhook fields (`config.alerts.webhook`, `config.alerts.rules.<rule>.webhook`) a new version sets
 * differently from its base: every one it sets when it has no base. A webhook URL decides where alert
 * texts go, so adding or changing one is settings:write (admin), whoever may create versions; a version
 * that keeps its base's hooks as they are needs config:write only.
 */
export function changedWebhookFields(base: GuardrailConfig | null, next: GuardrailConfig): string[] {
  const before = new Map(base ? alertWebhookFields(base.alerts).map((f) => [f.path, f.url] as const) : []);
  return alertWebhookFields(next.alerts)
    .filter((f) => f.url !== (before.get(f.path) ?? null))
    .map((f) => `config.${f.path}`);
}
