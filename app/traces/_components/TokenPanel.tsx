"use client";

import type { ViewToken } from "../_lib/trace-view";

const p = (v: number | null | undefined) => (v === null || v === undefined ? "–" : v.toFixed(3));
const show = (text: string) => JSON.stringify(text);

const ORIGIN_WHY: Record<string, string> = {
  accepted: "proposed by the draft and accepted by the target's verification",
  "lossy-accepted": "proposed by the draft and accepted by the lossy threshold (the target alone might have chosen otherwise)",
  recovered: "emitted by the target after it rejected the draft at this position",
  bonus: "emitted by the target after it accepted every draft token of the step",
  target: "emitted by the target alone (nothing was drafted)",
};

/** Why one token is in the output: who produced it, with which probabilities, and what the target alone would have done. */
export function TokenPanel({ token, verifyMode, lossyThreshold, onClose }: { token: ViewToken; verifyMode: string | null; lossyThreshold: number | null; onClose: () => void }) {
  const test = acceptanceTest(token, verifyMode, lossyThreshold);
  return (
    <aside className="card token-panel" data-testid="token-panel" aria-label={`token ${token.index}`}>
      <div className="token-panel-head">
        <span className={`tok tok-${token.origin}`}>{token.text.replace(/\n/g, "↵")}</span>
        <button type="button" className="link-button" onClick={onClose} aria-label="close token panel">×</button>
      </div>
      <p className="token-why">{ORIGIN_WHY[token.origin] ?? token.origin}</p>
      <dl className="kv kv-tight">
        <dt>Origin</dt>
        <dd data-testid="token-origin">{token.origin}</dd>
        <dt>Token</dt>
        <dd className="mono">{show(token.text)} · id {token.id}</dd>
        <dt>Position</dt>
        <dd>#{token.index} in the output · step {token.step}, position {token.offset} in the step</dd>
        <dt>Target p</dt>
        <dd className="mono">{p(token.prob)}{token.logprob !== null ? ` (logprob ${token.logprob.toFixed(3)})` : ""}</dd>
        <dt>Draft p</dt>
        <dd className="mono">{token.draftProb === null ? <span className="muted">not drafted</span> : p(token.draftProb)}</dd>
        {test && (
          <>
            <dt>Acceptance test</dt>
            <dd>{test}</dd>
          </>
        )}
        {token.replaced && (
          <>
            <dt>Rejected draft</dt>
            <dd className="mono">
              {show(token.replaced.text)} (id {token.replaced.token}) · draft p {p(token.replaced.prob)} · target p {p(token.replaced.targetProb)}
            </dd>
          </>
        )}
        <dt>Target alone</dt>
        <dd data-testid="token-target-choice">
          {token.targetChoice ? (
            token.targetChoice.token === token.id ? (
              <>the same token{token.targetChoice.prob !== null ? ` (p ${p(token.targetChoice.prob)})` : ""}</>
            ) : (
              <span className="mono">
                {show(token.targetChoice.text)} (id {token.targetChoice.token}, p {p(token.targetChoice.prob)}): <strong>differs</strong>
              </span>
            )
          ) : (
            <span className="muted">not recorded for this token</span>
          )}
        </dd>
      </dl>
    </aside>
  );
}

function acceptanceTest(t: ViewToken, verifyMode: string | null, lossyThreshold: number | null): string | null {
  if (t.verdict) {
    const v = t.verdict;
    if (verifyMode === "greedy") return `greedy: accepted because the draft token is the target's argmax${v.targetArgmax ? "" : " (not recorded as argmax)"}`;
    if (verifyMode === "lossy" || t.origin === "lossy-accepted") {
      return `lossy: target p ${p(v.targetProb)} ≥ threshold ${lossyThreshold ?? "?"}${v.targetArgmax ? "; also the target's argmax" : "; not the target's argmax"}`;
    }
    if (v.uniform !== null && v.acceptProb !== null) return `sampling: u = ${p(v.uniform)} < min(1, p/q) = ${p(v.acceptProb)}`;
    if (t.draftProb !== null && v.targetProb !== null) return `sampling: accepted with probability min(1, p/q) = min(1, ${p(v.targetProb)}/${p(t.draftProb)}) = ${p(Math.min(1, v.targetProb / Math.max(t.draftProb, 1e-12)))}`;
    return v.outcome;
  }
  if (t.replaced) {
    if (verifyMode === "greedy") return "greedy: the draft token was not the target's argmax, so the target's argmax was emitted instead";
    if (verifyMode === "lossy") return `lossy: the draft token's target p ${p(t.replaced.targetProb)} was below the threshold ${lossyThreshold ?? "?"}`;
    return "sampling: the draft token failed the min(1, p/q) test; this token was drawn from norm(max(0, p − q))";
  }
  return null;
}
