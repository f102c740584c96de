"use client";

import { useEffect, useMemo, useRef, useState, type PointerEvent } from "react";
import type { ViewStep } from "../_lib/trace-view";

const ROW_HEIGHT = 34;
const VIEWPORT_HEIGHT = 476; // 14 rows
const OVERSCAN = 8;
const MINIMAP_HEIGHT = 44;

type Window = { from: number; to: number };

/**
 * Jaeger-style waterfall of the speculative steps: an overview of the whole request (drag across it
 * to zoom into a time window, double-click to reset) above one row per step with its proposals,
 * verdicts and a draft / verify / overhead bar on the zoomed time axis. Only the rows in view are
 * rendered, so a 2,000-step trace scrolls like a 20-step one.
 */
export function StepWaterfall({ steps, selectedStep, onSelectStep }: { steps: ViewStep[]; selectedStep: number | null; onSelectStep: (step: number) => void }) {
  const total = useMemo(() => Math.max(1e-6, ...steps.map((s) => s.startMs + Math.max(s.durationMs, s.draftMs + s.verifyMs + s.overheadMs))), [steps]);
  const [zoom, setZoom] = useState<Window>({ from: 0, to: total });
  const [drag, setDrag] = useState<{ start: number; end: number } | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const list = useRef<HTMLDivElement>(null);
  const minimap = useRef<SVGSVGElement>(null);

  const visible = useMemo(() => steps.filter((s) => s.startMs + s.durationMs >= zoom.from && s.startMs <= zoom.to), [steps, zoom]);
  const zoomed = zoom.from > 0 || zoom.to < total;

  // A token clicked elsewhere on the page scrolls its step into view.
  useEffect(() => {
    if (selectedStep === null || !list.current) return;
    const row = visible.findIndex((s) => s.index === selectedStep);
    if (row < 0) return;
    const top = row * ROW_HEIGHT;
    const el = list.current;
    if (top < el.scrollTop || top > el.scrollTop + VIEWPORT_HEIGHT - ROW_HEIGHT) el.scrollTop = Math.max(0, top - VIEWPORT_HEIGHT / 2);
  }, [selectedStep, visible]);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(visible.length, Math.ceil((scrollTop + VIEWPORT_HEIGHT) / ROW_HEIGHT) + OVERSCAN);
  const span = zoom.to - zoom.from;
  const pct = (ms: number) => `${(Math.max(0, Math.min(1, (ms - zoom.from) / span)) * 100).toFixed(3)}%`;
  const width = (ms: number) => `${(Math.max(0, ms / span) * 100).toFixed(3)}%`;

  const timeAt = (e: PointerEvent<SVGSVGElement>) => {
    const box = minimap.current!.getBoundingClientRect();
    return Math.max(0, Math.min(1, (e.clientX - box.left) / box.width)) * total;
  };
  const maxAccepted = Math.max(1, ...steps.map((s) => s.accepted + 1));

  return (
    <section className="waterfall" data-testid="step-waterfall">
      <div className="waterfall-bar">
        <span className="muted">
          {visible.length === steps.length ? `${steps.length} steps` : `${visible.length} of ${steps.length} steps`} · {zoom.from.toFixed(1)}–{zoom.to.toFixed(1)} ms
        </span>
        <span className="legend-inline">
          <i className="seg seg-draft" /> draft <i className="seg seg-verify" /> verify <i className="seg seg-overhead" /> overhead
        </span>
        {zoomed && (
          <button type="button" className="link-button" onClick={() => setZoom({ from: 0, to: total })} data-testid="reset-zoom">
            Reset zoom
          </button>
        )}
      </div>
      <svg
        ref={minimap}
        className="minimap"
        data-testid="minimap"
        viewBox={`0 0 1000 ${MINIMAP_HEIGHT}`}
        preserveAspectRatio="none"
        height={MINIMAP_HEIGHT}
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          const t = timeAt(e);
          setDrag({ start: t, end: t });
        }}
        onPointerMove={(e) => drag && setDrag({ ...drag, end: timeAt(e) })}
        onPointerUp={() => {
          if (drag && Math.abs(drag.end - drag.start) > total / 500) setZoom({ from: Math.min(drag.start, drag.end), to: Math.max(drag.start, drag.end) });
          setDrag(null);
        }}
        onDoubleClick={() => setZoom({ from: 0, to: total })}
      >
        <title>Drag to zoom into a time window; double-click to reset</title>
        {steps.map((s) => {
          const h = ((s.accepted + 1) / maxAccepted) * (MINIMAP_HEIGHT - 4);
          return <rect key={s.index} x={(s.startMs / total) * 1000} y={MINIMAP_HEIGHT - h} width={Math.max(0.6, (s.durationMs / total) * 1000 - 0.3)} height={h} className={s.accepted === s.drafted && s.drafted > 0 ? "mm-full" : s.accepted > 0 ? "mm-part" : "mm-none"} />;
        })}
        {zoomed && <rect x={(zoom.from / total) * 1000} y={0} width={((zoom.to - zoom.from) / total) * 1000} height={MINIMAP_HEIGHT} className="mm-window" />}
        {drag && <rect x={(Math.min(drag.start, drag.end) / total) * 1000} y={0} width={(Math.abs(drag.end - drag.start) / total) * 1000} height={MINIMAP_HEIGHT} className="mm-drag" />}
      </svg>
      <div className="step-head step-grid">
        <span className="num">#</span>
        <span>Proposals (chosen path first) and verdicts</span>
        <span>Next</span>
        <span className="num">KV target</span>
        <span>Time</span>
      </div>
      <div ref={list} className="step-viewport" style={{ height: Math.min(VIEWPORT_HEIGHT, visible.length * ROW_HEIGHT + 2) }} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)} data-testid="step-list">
        <div style={{ height: visible.length * ROW_HEIGHT, position: "relative" }}>
          {visible.slice(first, last).map((s, i) => (
            <div
              key={s.index}
              className={`step-row step-grid${s.index === selectedStep ? " step-selected" : ""}`}
              style={{ transform: `translateY(${(first + i) * ROW_HEIGHT}px)`, height: ROW_HEIGHT }}
              data-step={s.index}
              onClick={() => onSelectStep(s.index)}
            >
              <span className="num mono">{s.index}</span>
              <span className="proposals" title={proposalTitle(s)}>
                {s.paths.length === 0 ? (
                  <span className="muted">nothing drafted</span>
                ) : (
                  ordered(s).map(({ path, pi }) => (
                    <span key={pi} className={pi === s.pathIndex || (s.pathIndex < 0 && pi === 0) ? "path path-chosen" : "path"}>
                      {path.tokens.map((t, d) => (
                        <span key={d} className={`ptok ptok-${path.outcomes[d] ?? "unexamined"}`} title={`draft p ${t.prob?.toFixed(3) ?? "–"} · ${path.outcomes[d] ?? "not examined"}`}>
                          {t.text.replace(/\n/g, "↵")}
                        </span>
                      ))}
                    </span>
                  ))
                )}
              </span>
              <span className="mono next-cell" title={s.next ? `${s.next.origin} · target p ${s.next.prob?.toFixed(3) ?? "–"}` : undefined}>
                {s.next ? <span className={`tok tok-${s.next.origin ?? "target"}`}>{s.next.text.replace(/\n/g, "↵")}</span> : "–"}
              </span>
              <span className="num mono" title={`rolled back: target ${s.rolledBackTarget}${s.rolledBackDraft !== null ? `, draft ${s.rolledBackDraft}` : ""}`}>
                {s.kvTarget ?? "–"}
                {s.rolledBackTarget > 0 && <span className="muted"> −{s.rolledBackTarget}</span>}
              </span>
              <span className="timeline" title={`draft ${s.draftMs.toFixed(2)} ms · verify ${s.verifyMs.toFixed(2)} ms · overhead ${s.overheadMs.toFixed(2)} ms`}>
                <span className="bar" style={{ left: pct(s.startMs), width: width(s.draftMs + s.verifyMs + s.overheadMs) }}>
                  <i className="seg seg-draft" style={{ flexGrow: s.draftMs }} />
                  <i className="seg seg-verify" style={{ flexGrow: s.verifyMs }} />
                  <i className="seg seg-overhead" style={{ flexGrow: s.overheadMs }} />
                </span>
              </span>
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}

function ordered(s: ViewStep) {
  const all = s.paths.map((path, pi) => ({ path, pi }));
  const chosen = Math.max(s.pathIndex, 0);
  return [all[chosen], ...all.filter((_, i) => i !== chosen)].filter(Boolean);
}

function proposalTitle(s: ViewStep): string {
  return `k=${s.k} · ${s.accepted}/${s.drafted} accepted · ${s.paths.length} path(s)`;
}
