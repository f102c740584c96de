import { and, asc, eq, like } from "drizzle-orm";
import { A, GUARDRAIL_EVENT_PREFIX } from "@/engine";
import type { SpecLensDb } from "../client";
import { spanEvents } from "../schema";

/** A guardrail rule that acted on a request, read back from its span event. */
export interface GuardrailEvent {
  rule: string;
  action: string;
  /** The step it acted at, or null for rules decided at admission (load, cooldown, limits). */
  step: number | null;
  measured: number | null;
  threshold: number | null;
  detail: string;
  timeNs: bigint;
}

const num = (v: unknown) => (typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : null);

/** Every guardrail event of a trace, in time order (request-span events named speclens.guardrail.*). */
export function listGuardrailEvents(db: SpecLensDb, traceId: string): GuardrailEvent[] {
  return db.select().from(spanEvents)
    .where(and(eq(spanEvents.traceId, traceId), like(spanEvents.name, `${GUARDRAIL_EVENT_PREFIX}%`)))
    .orderBy(asc(spanEvents.timeNs), asc(spanEvents.id)).all()
    .map((e) => {
      const a = e.attributes;
      const step = num(a[A.guardrailStep]);
      return {
        rule: String(a[A.guardrailRule] ?? e.name.slice(GUARDRAIL_EVENT_PREFIX.length)),
        action: String(a[A.guardrailAction] ?? ""),
        step: step === null || step < 0 ? null : step,
        measured: num(a[A.guardrailMeasured]),
        threshold: num(a[A.guardrailThreshold]),
        detail: String(a[A.guardrailDetail] ?? ""),
        timeNs: e.timeNs,
      };
    });
}
