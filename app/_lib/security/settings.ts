import "server-only";
import { z, type ZodError } from "zod";
import { SETTING_DEFS, type EffectiveSetting, type EffectiveSettings, type SettingName, type SettingValues } from "@/db/queries/settings";
import { describeZodError, jsonResponse } from "../http";
import { KEY_ROLES, ROLES } from "./config";

/** Bodies of the /api/settings routes (admin: runtime settings, users and API keys). */

export const createKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(64),
  role: z.enum(KEY_ROLES),
});

const userName = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9._@-]+$/, "letters, digits and . _ @ - only");

export const createUserSchema = z.strictObject({
  name: userName,
  role: z.enum(ROLES),
  password: z.string().min(12, "at least 12 characters").max(1024),
});

export const updateUserSchema = z
  .strictObject({
    role: z.enum(ROLES).optional(),
    disabled: z.boolean().optional(),
    password: z.string().min(12, "at least 12 characters").max(1024).optional(),
  })
  .refine((b) => b.role !== undefined || b.disabled !== undefined || b.password !== undefined, { message: "nothing to change: send role, disabled or password" });

/** A positive integer path id, or null. */
export function parseId(raw: string): number | null {
  return /^[1-9][0-9]{0,9}$/.test(raw) ? Number(raw) : null;
}

/**
 * PATCH /api/settings: any of the runtime settings. A value saves it (0 days, 0 MB and "" switch the
 * feature off, whatever the environment says); null removes the saved value, so the environment
 * variable (or off) applies again; a field left out is unchanged.
 */
export const settingsPatchSchema = z
  .strictObject({
    retentionDays: SETTING_DEFS.retentionDays.schema.nullable().optional(),
    maxDbMb: SETTING_DEFS.maxDbMb.schema.nullable().optional(),
    alertWebhook: SETTING_DEFS.alertWebhook.schema.nullable().optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    message: "nothing to change: send retentionDays, maxDbMb or alertWebhook (null resets one to its default)",
  });

/** 400 naming every bad field: `issues` [{ path, message }] for the form, `param` the first field. */
export function settingsIssuesResponse(error: ZodError): Response {
  const issues = error.issues.map((i) => ({ path: i.path.length > 0 ? i.path.join(".") : "body", message: i.message }));
  const param = issues[0]?.path === "body" ? null : (issues[0]?.path ?? null);
  return jsonResponse(
    { error: { message: describeZodError(error), type: "invalid_request_error", param, code: "invalid_settings" }, issues },
    { status: 400 },
  );
}

export type { SettingName } from "@/db/queries/settings";

/** One setting on the wire: its value, where it comes from, and what applies without a saved value. */
export interface SettingView<T> {
  value: T;
  source: "saved" | "environment" | "default";
  savedBy: string | null;
  savedAt: string | null;
  default: { value: T; source: "environment" | "default"; variable: string };
}

export type SettingsView = { [K in SettingName]: SettingView<SettingValues[K]> };

export function settingsJson(settings: EffectiveSettings): SettingsView {
  const view = <T>(s: EffectiveSetting<T>): SettingView<T> => ({
    value: s.value, source: s.source, savedBy: s.savedBy, savedAt: s.savedAtMs === null ? null : new Date(s.savedAtMs).toISOString(), default: s.fallback,
  });
  return { retentionDays: view(settings.retentionDays), maxDbMb: view(settings.maxDbMb), alertWebhook: view(settings.alertWebhook) };
}
