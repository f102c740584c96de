import { VERDICT_LABELS } from "./types";

export function VerdictBadge({ verdict }: { verdict: string }) {
  return (
    <span className={`verdict verdict-${verdict}`} data-testid="verdict" data-verdict={verdict}>
      {VERDICT_LABELS[verdict] ?? verdict}
    </span>
  );
}
