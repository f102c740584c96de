/**
 * Benchmark workloads, all built from the held-out split (never trained on).
 * - in-domain: the opening words of held-out paragraphs, continued for 128 tokens.
 * - repetition: a held-out paragraph, then the same paragraph again up to its middle, so the
 *   continuation repeats text already in the prompt (the prompt-lookup case: code edits, quoting,
 *   summaries that copy).
 */
import { heldoutDocs, heldoutPrompts } from "../tests/support/models";

export interface Workload {
  name: string;
  prompts: string[];
  maxTokens: number;
}

export function inDomain(count: number, maxTokens: number): Workload {
  return { name: "in-domain", prompts: heldoutPrompts(count), maxTokens };
}

export function repetition(count: number, maxTokens: number): Workload {
  const prompts: string[] = [];
  for (const doc of heldoutDocs()) {
    for (const para of doc.text.split("\n")) {
      const words = para.split(" ");
      if (words.length < 60 || words.length > 140) continue;
      prompts.push(`${para}\n${words.slice(0, Math.floor(words.length / 3)).join(" ")}`);
      break;
    }
    if (prompts.length >= count) break;
  }
  return { name: "repetition", prompts, maxTokens };
}
