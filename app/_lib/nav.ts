/** The dashboard's sections, in sidebar order. Pages and the browser tests both read this list. */
export const NAV_ITEMS = [
  { href: "/traces", label: "Traces", purpose: "Every request as an OpenTelemetry trace: draft proposals, verifications and rollbacks." },
  { href: "/metrics", label: "Metrics", purpose: "Acceptance rate, mean acceptance length and throughput, per request and over time." },
  { href: "/guardrails", label: "Guardrails", purpose: "Versioned speculative-decoding configs and the label that marks the one in production." },
  { href: "/alerts", label: "Alerts", purpose: "Acceptance-rate drift alerts evaluated over the traced requests." },
  { href: "/replay", label: "Replay", purpose: "Re-run a stored request to tell whether a bad output came from the draft or the target model." },
  { href: "/playground", label: "Playground", purpose: "Send a prompt through the embedded engine and watch every speculative step." },
] as const;

export type NavItem = (typeof NAV_ITEMS)[number];

export function navItem(href: NavItem["href"]): NavItem {
  const item = NAV_ITEMS.find((candidate) => candidate.href === href);
  if (!item) throw new Error(`unknown section ${href}`);
  return item;
}
