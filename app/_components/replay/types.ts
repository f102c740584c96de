/* The JSON the replay routes answer, as the browser components read it (see app/_lib/replay/run.ts). */
import type { AttributedToken } from "@/app/_lib/replay/attribution";
import type { DraftEvidence } from "@/app/_lib/replay/compare";

/** The same shape the server computes it in (type-only imports are erased, so nothing server-side is bundled). */
export type DraftEvidenceJson = DraftEvidence;

export interface DivergenceJson {
  position: number;
  original: { token: number; text: string; origin: string } | null;
  replay: { token: number; text: string } | null;
  targetTop2Margin: number | null;
}

export interface ReplayJson {
  traceId: string;
  replayOf: string;
  mode: string;
  reproduced: boolean;
  firstDivergence: DivergenceJson | null;
  verdict: string;
  explanation: string;
  modelChanges: string[];
  draftEvidence: DraftEvidenceJson | null;
  adjustments: string[];
  original: { tokens: number; text: string };
  replay: { tokens: number; text: string; finishReason: string };
}

export type AttributedTokenJson = AttributedToken;

export interface AttributionJson {
  traceId: string;
  targetOnly: { traceId: string; reused: boolean; text: string; tokens: { position: number; text: string; id: number }[] };
  completion: string;
  tokens: AttributedTokenJson[];
  overall: { verdict: string; explanation: string; firstDivergence: DivergenceJson | null; draftEvidence: DraftEvidenceJson | null; modelChanges: string[] };
  firstDraftIntroduced: number | null;
  configVersion: string | null;
  lossyThreshold: number | null;
  span: {
    start: number;
    end: number;
    text: string;
    positions: [number, number];
    verdict: string;
    explanation: string;
    inTargetOnly: boolean;
    draftEvidence: DraftEvidenceJson | null;
  } | null;
}

export const VERDICT_LABELS: Record<string, string> = {
  reproduced: "reproduced",
  draft: "introduced by the draft",
  target: "produced by the target",
  "numerical-tie": "numerical tie",
  "models-changed": "models changed",
};

export const p3 = (v: number | null | undefined) => (v === null || v === undefined ? "–" : v.toFixed(3));

/** Fetch JSON; an API error's message becomes the thrown Error's. */
export async function fetchJson<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const body = (await response.json()) as T & { error?: { message: string } };
  if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return body;
}
