import "server-only";
import { statSync } from "node:fs";
import type { SpecEngine } from "@/engine";
import { formatModelId } from "@/engine";

/** The served model in OpenAI's model object shape, with the speculative pair under `speclens`. */
export function servedModel(engine: SpecEngine) {
  const { target, draft } = engine.models;
  return {
    id: target.id.name,
    object: "model",
    created: Math.floor(statSync(target.folder.onnxPath).mtimeMs / 1000),
    owned_by: "speclens",
    root: target.id.name,
    parent: null,
    max_model_len: target.maxPositions,
    speclens: {
      model_id: formatModelId(target.id),
      sha256: target.id.sha256,
      draft: draft ? { model_id: formatModelId(draft.id), sha256: draft.id.sha256 } : null,
      chat_template: engine.chatTemplate.source,
    },
  };
}
