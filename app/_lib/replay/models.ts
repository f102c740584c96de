/*
 * Whether a stored trace ran on the models and runtime loaded now. A replay on other weights or another
 * onnxruntime proves nothing about which model made an error, so a difference is named plainly and the
 * verdict is models-changed. Pure: the caller passes what the trace recorded and what is loaded.
 */

export interface ModelIdentity {
  name: string;
  /** sha256 of the ONNX graph (the model_id's hash). */
  sha256: string;
  /** Per-file sha256 (model.onnx, tokenizer.json, config.json), when recorded. */
  files?: Record<string, string> | null;
}

export interface RecordedIdentity {
  target: { sha256: string | null; files?: Record<string, string> | null };
  /** null when the trace used no draft model. */
  draft: { sha256: string | null; files?: Record<string, string> | null } | null;
  /** The runtime identity recorded on the request (onnxruntime version, execution provider, ...). */
  runtime?: Record<string, unknown> | null;
}

export interface LoadedIdentity {
  target: ModelIdentity;
  draft: ModelIdentity | null;
  runtime?: Record<string, unknown> | null;
}

const short = (hash: string | null | undefined) => (hash ? hash.slice(0, 12) : "none");

function fileChanges(role: string, recorded: Record<string, string> | null | undefined, loaded: Record<string, string> | null | undefined): string[] {
  if (!recorded || !loaded) return [];
  const changes: string[] = [];
  for (const [file, hash] of Object.entries(recorded)) {
    const now = loaded[file];
    if (now !== undefined && now !== hash) changes.push(`${role} ${file} sha256 was ${short(hash)}, loaded is ${short(now)}`);
  }
  return changes;
}

/**
 * Runtime fields whose change can change outputs. Thread counts are left out: they change the
 * order of floating-point reductions only within a kernel's tolerance, which is what a numerical
 * tie names, and two processes of one deployment may set them differently.
 */
export const RUNTIME_FIELDS = ["onnxruntimeVersion", "executionProvider", "graphOptimizationLevel"] as const;

export function modelChanges(recorded: RecordedIdentity, loaded: LoadedIdentity): string[] {
  const changes: string[] = [];
  if (recorded.target.sha256 && recorded.target.sha256 !== loaded.target.sha256) {
    changes.push(`target model.onnx sha256 was ${short(recorded.target.sha256)}, loaded is ${short(loaded.target.sha256)} (${loaded.target.name})`);
  } else {
    changes.push(...fileChanges("target", recorded.target.files, loaded.target.files));
  }
  if (recorded.draft) {
    if (!loaded.draft) {
      changes.push("the trace used a draft model and none is loaded now");
    } else if (recorded.draft.sha256 && recorded.draft.sha256 !== loaded.draft.sha256) {
      changes.push(`draft model.onnx sha256 was ${short(recorded.draft.sha256)}, loaded is ${short(loaded.draft.sha256)} (${loaded.draft.name})`);
    } else {
      changes.push(...fileChanges("draft", recorded.draft.files, loaded.draft.files));
    }
  }
  if (recorded.runtime && loaded.runtime) {
    for (const field of RUNTIME_FIELDS) {
      const was = recorded.runtime[field];
      const now = loaded.runtime[field];
      if (was !== undefined && now !== undefined && JSON.stringify(was) !== JSON.stringify(now)) {
        changes.push(`runtime ${field} was ${JSON.stringify(was)}, loaded is ${JSON.stringify(now)}`);
      }
    }
  }
  return changes;
}
