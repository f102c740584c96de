/**
 * PLACEHOLDER owned by the alerts branch (issue 12), which replaces this file whole: the alert rules
 * embedded as the `alerts` field of every guardrail config version. Until then any object is kept as is.
 */
import { z } from "zod";

export const alertRulesSchema = z.looseObject({});
export type AlertRules = z.infer<typeof alertRulesSchema>;
export const DEFAULT_ALERT_RULES: AlertRules = {};
