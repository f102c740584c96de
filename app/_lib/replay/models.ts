/*
 * Whether a stored trace ran on the models and runtime loaded now. A replay on other weights or another
 * onnxruntime proves nothing about which model made an error, so a difference is named plainly and the
 * verdict is models-changed. Pure: the caller passes what the trace recorded and what is loaded.
 */

export interface ModelIdentity {
  name: string;
  /** The model_id's hash (over model.onnx, tokenizer.json and config.json). */
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

/**
 * The model id's sha256 covers model.onnx, tokenizer.json and config.json together; when both sides
 * recorded per-file hashes, the files that differ are named, else the model id hash itself.
 */
function modelChange(role: string, recorded: { sha256: string | null; files?: Record<string, string> | null }, loaded: ModelIdentity): string[] {
  const files = fileChanges(role, recorded.files, loaded.files);
  if (files.length > 0) return files;
  if (recorded.sha256 && recorded.sha256 !== loaded.sha256) {
    return [`${role} model sha256 was ${short(recorded.sha256)}, loaded is ${short(loaded.sha256)} (${loaded.name})`];
  }
  return [];
}

export function modelChanges(recorded: RecordedIdentity, loaded: LoadedIdentity): string[] {
  const changes = modelChange("target", recorded.target, loaded.target);
  if (recorded.draft) {
    if (!loaded.draft) changes.push("the trace used a draft model and none is loaded now");
    else changes.push(...modelChange("draft", recorded.draft, loaded.draft));
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
