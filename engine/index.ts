// The engine's public face (see DESIGN.md). The foundations work fills in the rest of this file.
export { ALERT_RULE_NAMES, DEFAULT_ALERT_RULES, alertRulesOf, alertRulesSchema, type AlertRuleName, type AlertRules } from "./alert-rules";
