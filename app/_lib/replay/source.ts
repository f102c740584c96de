import "server-only";
import type { SpecLensDb } from "@/db/client";
import { loadGeneration, type StoredGeneration } from "@/db/queries/replays";
import type { StepRow } from "@/db/schema";
import { DEFAULT_PARAMS, DEFAULT_SPEC_CONFIG, parseSpecConfig, type GenerateParams, type SpecConfig } from "@/engine";
import type { RecordedToken } from "./compare";
import type { RecordedIdentity } from "./models";

/*
 * A stored trace as replay reads it: what ran (prompt ids, parameters, config, version), on what
 * (model hashes, runtime), and every output token with who chose it, rebuilt from the step records.
 */

export interface OriginalTrace {
  traceId: string;
  prompt: string;
  promptIds: number[] | null;
  completion: string;
  params: GenerateParams;
  config: SpecConfig;
  configVersion: string | null;
  finishReason: string | null;
  replayOf: string | null;
  identity: RecordedIdentity;
  tokens: RecordedToken[];
}

interface ExaminedJson {
  path?: number | null;
  depth?: number | null;
  token?: number | null;
  outcome?: string | null;
  targetProb?: number | null;
  targetArgmax?: boolean;
  draftProb?: number | null;
  targetChoice?: { token: number; prob?: number | null } | null;
}

function parse<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** The chosen path's draft probabilities of a step ([depth]). */
function chosenDraftProbs(step: StepRow): number[] {
  const probs = parse<number[]>(step.draftProbsJson, []);
  const lengths = parse<number[]>(step.pathLengthsJson, []);
  const path = Math.max(0, step.pathIndex);
  const start = lengths.slice(0, path).reduce((a, b) => a + b, 0);
  return probs.slice(start, start + (lengths[path] ?? 0));
}

/**
 * Who chose each output token. Tokens at offsets below the step's accepted count are the chosen path's
 * drafts: their examined record says whether the target alone would have picked them (targetChoice
 * when recorded, else the greedy argmax flag). The recovered or bonus token is the target's own.
 */
export function recordedTokens(stored: Pick<StoredGeneration, "steps" | "tokens">): RecordedToken[] {
  const stepsByIndex = new Map(stored.steps.map((s) => [s.stepIndex, s]));
  return stored.tokens.map((t, position) => {
    const step = stepsByIndex.get(t.stepIndex);
    const drafted = step !== undefined && t.offset < step.accepted;
    let targetChoice: RecordedToken["targetChoice"] = null;
    let targetAgrees: boolean | null = true;
    let draftProb: number | null = null;
    if (t.targetChoice !== null && t.targetChoice !== undefined) {
      // Recorded per token: what the target alone would have emitted here.
      targetChoice = { token: t.targetChoice, prob: t.targetChoiceProb ?? null };
      draftProb = t.draftProb ?? null;
      targetAgrees = drafted ? t.targetChoice === t.tokenId : true;
    } else if (drafted && step) {
      // Older records: the examined entry of the chosen path at this depth.
      const examined = parse<ExaminedJson[]>(step.examinedJson, []).find(
        (e) => e.depth === t.offset && e.outcome !== "rejected" && (e.path === undefined || e.path === null || e.path === Math.max(0, step.pathIndex)),
      );
      draftProb = examined?.draftProb ?? chosenDraftProbs(step)[t.offset] ?? null;
      if (examined?.targetChoice && typeof examined.targetChoice.token === "number") {
        targetChoice = { token: examined.targetChoice.token, prob: examined.targetChoice.prob ?? null };
        targetAgrees = examined.targetChoice.token === t.tokenId;
      } else if (t.origin === "lossy-accepted") {
        targetAgrees = examined ? examined.targetArgmax === true : null;
      }
    }
    return { position, id: t.tokenId, text: t.text, origin: t.origin, targetProb: t.prob, draftProb, targetChoice, targetAgrees };
  });
}

/** The config the trace recorded; one that no longer parses (an older schema) falls back to the defaults' shape. */
function storedConfig(json: string): SpecConfig {
  try {
    return parseSpecConfig(parse(json, {}));
  } catch {
    return DEFAULT_SPEC_CONFIG;
  }
}

export function toOriginal(stored: StoredGeneration): OriginalTrace {
  const r = stored.request;
  const runtime = parse<Record<string, unknown> | null>(r.runtimeJson, null);
  const files = (json: string | null) => parse<Record<string, string> | null>(json, null);
  return {
    traceId: r.traceId,
    prompt: r.prompt,
    promptIds: stored.promptTokenIds,
    completion: r.completion ?? "",
    params: { ...DEFAULT_PARAMS, ...parse<Partial<GenerateParams>>(r.paramsJson, {}) },
    config: storedConfig(r.configJson),
    configVersion: r.configVersion,
    finishReason: r.finishReason,
    replayOf: r.replayOf,
    identity: {
      target: { sha256: r.targetSha256, files: files(r.targetFilesJson) },
      draft: r.draftModelId ? { sha256: r.draftSha256, files: files(r.draftFilesJson) } : null,
      runtime,
    },
    tokens: recordedTokens(stored),
  };
}

export function loadOriginal(db: SpecLensDb, traceId: string): OriginalTrace | null {
  const stored = loadGeneration(db, traceId);
  return stored ? toOriginal(stored) : null;
}
