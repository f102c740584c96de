import { getDb } from "@/db/client";
import { listGuardrailEvents } from "@/db/queries/guardrail-events";

/*
 * The guardrail rules that acted on this request, each at its step (or at admission), with what was
 * measured against which threshold. Self-contained: the trace page includes it with one line. The
 * step where a rule acted is also marked in the step waterfall by a row style keyed on its data-step.
 */
export function GuardrailEvents({ traceId }: { traceId: string }) {
  const events = listGuardrailEvents(getDb(), traceId);
  if (events.length === 0) return null;
  const fmt = (v: number | null) => (v === null ? "–" : Number.isInteger(v) ? String(v) : v.toFixed(3));
  const steps = events.filter((e) => e.step !== null).map((e) => e.step as number);
  const rowMarks = steps
    .map((s) => `[data-testid="step-list"] .step-row[data-step="${s}"] { box-shadow: inset 4px 0 0 #c2410c; background: #fff4ec; }
[data-testid="step-list"] .step-row[data-step="${s}"] > span:first-child::after { content: " ⚑"; color: #c2410c; }`)
    .join("\n");
  return (
    <section className="card" data-testid="guardrail-events" style={{ margin: "0 0 20px" }}>
      {rowMarks && <style>{rowMarks}</style>}
      <h2>Guardrail rules that acted</h2>
      <ul style={{ margin: 0, paddingLeft: 18 }}>
        {events.map((e, i) => (
          <li key={i} data-rule={e.rule} data-step={e.step ?? "admission"}>
            <strong>{e.step === null ? "at admission" : `at step ${e.step}`}</strong> · <span className="mono">speclens.guardrail.{e.rule}</span> ·{" "}
            {e.action.replace(/_/g, " ")} · measured <span className="mono">{fmt(e.measured)}</span> against threshold{" "}
            <span className="mono">{fmt(e.threshold)}</span>
            {e.detail && <div className="muted">{e.detail}</div>}
          </li>
        ))}
      </ul>
    </section>
  );
}
