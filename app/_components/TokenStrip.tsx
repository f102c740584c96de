import type { CSSProperties } from "react";

/** Where an output token came from; the colours are the legend used everywhere tokens are shown. */
export const ORIGINS = [
  { origin: "accepted", label: "accepted draft" },
  { origin: "lossy-accepted", label: "lossy-accepted" },
  { origin: "recovered", label: "recovered" },
  { origin: "bonus", label: "bonus" },
  { origin: "target", label: "target only" },
] as const;

export interface StripToken {
  text: string;
  origin: string;
  prob: number | null;
  step: number;
}

/** Visible whitespace, so a token that is only a space or a newline is still a visible chip. */
function display(text: string): string {
  return text.replace(/\n/g, "↵\n");
}

export function OriginLegend() {
  return (
    <ul className="origin-legend" aria-label="Token origins">
      {ORIGINS.map((o) => (
        <li key={o.origin}>
          <span className={`tok tok-${o.origin}`}>{o.label}</span>
        </li>
      ))}
    </ul>
  );
}

/** The completion as chips coloured by origin; hover shows step and the target's probability. */
export function TokenStrip({ tokens, style }: { tokens: StripToken[]; style?: CSSProperties }) {
  return (
    <p className="token-strip" data-testid="token-strip" style={style}>
      {tokens.map((t, i) => (
        <span
          key={i}
          className={`tok tok-${t.origin}`}
          data-origin={t.origin}
          title={`#${i} · step ${t.step} · ${t.origin}${t.prob === null ? "" : ` · p=${t.prob.toFixed(3)}`}`}
        >
          {display(t.text)}
        </span>
      ))}
    </p>
  );
}
