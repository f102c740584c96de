import { readFileSync } from "node:fs";

/*
 * The prompts `npm run traffic` sends and `tools/alerts/record.ts` recorded: held-out in-domain text
 * (the shipped pair was trained on the Brown corpus; models/eval/heldout.jsonl was never trained on)
 * and out-of-domain text the pair has never seen the like of: source code, JSON and lists of numbers.
 * Deterministic from a seed, so a recording can be reproduced.
 */

/** mulberry32: a tiny seeded PRNG, enough to vary prompts reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)];

/** Paragraph openings of the held-out documents, 12 to 28 words each, in a shuffled order. */
export function inDomainPrompts(count: number, seed = 1, file = "models/eval/heldout.jsonl"): string[] {
  const rand = seededRandom(seed);
  const paragraphs = readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .flatMap((line) => (JSON.parse(line) as { text: string }).text.split("\n"))
    .map((p) => p.split(" "))
    .filter((w) => w.length >= 36);
  const prompts: string[] = [];
  for (let i = 0; i < count; i++) {
    const words = pick(rand, paragraphs);
    const start = rand() < 0.5 ? 0 : Math.floor(rand() * (words.length - 30));
    prompts.push(words.slice(start, start + 12 + Math.floor(rand() * 17)).join(" "));
  }
  return prompts;
}

const IDENTIFIERS = ["count", "total", "user", "items", "result", "index", "buffer", "config", "value", "node"];
const KEYS = ["id", "name", "price", "tags", "created_at", "active", "score", "email", "region", "version"];

function codePrompt(rand: () => number): string {
  const a = pick(rand, IDENTIFIERS);
  const b = pick(rand, IDENTIFIERS);
  const forms = [
    `function ${a}Of(${b}) {\n  const ${a} = ${b}.map((x) => x * ${Math.floor(rand() * 9) + 2});\n  return`,
    `for (let i = 0; i < ${b}.length; i++) {\n  if (${b}[i] > ${Math.floor(rand() * 100)}) {\n    ${a} +=`,
    `def ${a}_${b}(${b}):\n    ${a} = []\n    for x in ${b}:\n        if x %`,
    `SELECT ${a}, COUNT(*) FROM ${b} WHERE ${a} > ${Math.floor(rand() * 50)} GROUP BY`,
    `#include <stdio.h>\nint main(void) {\n  int ${a}[${Math.floor(rand() * 30) + 2}];\n  for (int i = 0;`,
  ];
  return pick(rand, forms);
}

function jsonPrompt(rand: () => number): string {
  const fields = Array.from({ length: 2 + Math.floor(rand() * 3) }, () => {
    const key = pick(rand, KEYS);
    const value = rand() < 0.5 ? String(Math.floor(rand() * 10_000)) : `"${pick(rand, IDENTIFIERS)}_${Math.floor(rand() * 99)}"`;
    return `"${key}": ${value}`;
  });
  return `[{${fields.join(", ")}}, {"${pick(rand, KEYS)}":`;
}

function numbersPrompt(rand: () => number): string {
  const n = 8 + Math.floor(rand() * 10);
  const sep = pick(rand, [", ", " ", "; ", "\n"]);
  return Array.from({ length: n }, () => String(Math.floor(rand() * (rand() < 0.5 ? 100 : 100_000)))).join(sep) + sep;
}

export type OutOfDomainKind = "code" | "json" | "numbers";

/** Code, JSON and number lists in turn. */
export function outOfDomainPrompts(count: number, seed = 2): { kind: OutOfDomainKind; prompt: string }[] {
  const rand = seededRandom(seed);
  const kinds: OutOfDomainKind[] = ["code", "json", "numbers"];
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % 3];
    const prompt = kind === "code" ? codePrompt(rand) : kind === "json" ? jsonPrompt(rand) : numbersPrompt(rand);
    return { kind, prompt };
  });
}
