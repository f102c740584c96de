import { readFileSync } from "node:fs";
import { DEFAULT_DRAFT_DIR, DEFAULT_TARGET_DIR } from "@/engine/engine";

/** The shipped pair unless SPECLENS_TARGET_DIR / SPECLENS_DRAFT_DIR name another in the same layout. */
export const TARGET_DIR = process.env.SPECLENS_TARGET_DIR ?? DEFAULT_TARGET_DIR;
export const DRAFT_DIR = process.env.SPECLENS_DRAFT_DIR ?? DEFAULT_DRAFT_DIR;

export interface HeldoutDoc {
  id: string;
  genre: string;
  text: string;
}

export function heldoutDocs(): HeldoutDoc[] {
  return readFileSync("models/eval/heldout.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

/** A prompt from the start of each held-out document's paragraphs (the benchmark's prompt set). */
export function heldoutPrompts(count: number, words = 24): string[] {
  const prompts: string[] = [];
  for (const doc of heldoutDocs()) {
    for (const para of doc.text.split("\n")) {
      const w = para.split(" ");
      if (w.length >= words + 8) prompts.push(w.slice(0, words).join(" "));
      if (prompts.length >= count) return prompts;
    }
  }
  return prompts;
}
