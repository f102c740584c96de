/**
 * A Hugging Face-layout model folder: config.json, tokenizer.json, generation_config.json and the
 * ONNX decoder at model.onnx (ours) or onnx/model.onnx (Optimum / transformers.js exports).
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { ModelUnavailableError } from "../errors";

export interface ModelConfigJson {
  model_type: string;
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  max_position_embeddings: number;
  eos_token_id?: number | number[];
  bos_token_id?: number;
}

/**
 * A stable identity of a model: its folder name plus one sha256 over everything that decides its
 * tokens (the ONNX graph, the tokenizer and config.json), with each file's own hash in `files`.
 */
export interface ModelId {
  name: string;
  sha256: string;
  /** sha256 of each file: "model.onnx", "tokenizer.json", "config.json". */
  files?: Record<string, string>;
}

/** The model id's sha256: of the lines "<file> <sha256>" in this order, so any file changing changes it. */
export function combinedModelHash(files: Record<string, string>): string {
  const hash = createHash("sha256");
  for (const name of MODEL_ID_FILES) hash.update(`${name} ${files[name] ?? ""}\n`);
  return hash.digest("hex");
}

export const MODEL_ID_FILES = ["model.onnx", "tokenizer.json", "config.json"] as const;

export function formatModelId(id: ModelId): string {
  return `${id.name}@sha256:${id.sha256.slice(0, 12)}`;
}

export interface ModelFolder {
  dir: string;
  onnxPath: string;
  tokenizerPath: string;
  config: ModelConfigJson;
  id: ModelId;
}

const hashCache = new Map<string, string>();

async function sha256File(path: string): Promise<string> {
  const cached = hashCache.get(path);
  if (cached) return cached;
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const digest = hash.digest("hex");
  hashCache.set(path, digest);
  return digest;
}

export async function readModelFolder(dir: string): Promise<ModelFolder> {
  const root = resolve(dir);
  const onnxPath = [join(root, "model.onnx"), join(root, "onnx", "model.onnx")].find(existsSync);
  if (!onnxPath) throw new ModelUnavailableError(`${root}: no model.onnx or onnx/model.onnx`);
  const configPath = join(root, "config.json");
  if (!existsSync(configPath)) throw new ModelUnavailableError(`${root}: no config.json`);
  const tokenizerPath = join(root, "tokenizer.json");
  if (!existsSync(tokenizerPath)) throw new ModelUnavailableError(`${root}: no tokenizer.json`);
  const config = JSON.parse(readFileSync(configPath, "utf8")) as ModelConfigJson;
  for (const field of ["vocab_size", "num_hidden_layers", "num_attention_heads"] as const) {
    if (typeof config[field] !== "number") throw new Error(`${configPath}: missing numeric field ${field}`);
  }
  const [onnx, tokenizer, configHash] = await Promise.all([sha256File(onnxPath), sha256File(tokenizerPath), sha256File(configPath)]);
  const files = { "model.onnx": onnx, "tokenizer.json": tokenizer, "config.json": configHash };
  return { dir: root, onnxPath, tokenizerPath, config, id: { name: basename(root), sha256: combinedModelHash(files), files } };
}
