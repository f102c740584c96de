// Encode the training and held-out text with the same Hugging Face tokenizer the engine uses, so the
// models are trained on exactly the token sequences they see at run time.
// Output: a flat little-endian uint16 file per split; documents joined by <|endoftext|>.
// Usage: node tools/train/encode.mjs <tokenizer.json> <in.jsonl> <out.bin> [<in2.jsonl> <out2.bin> ...]
import { readFileSync, writeFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";

const [tokenizerPath, ...pairs] = process.argv.slice(2);
const tokenizerJson = JSON.parse(readFileSync(tokenizerPath, "utf8"));
const tokenizer = new Tokenizer(tokenizerJson, {});
const eos = tokenizerJson.added_tokens.find((t) => t.content === "<|endoftext|>").id;

for (let i = 0; i < pairs.length; i += 2) {
  const docs = readFileSync(pairs[i], "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const ids = [];
  let chars = 0;
  for (const doc of docs) {
    ids.push(eos, ...tokenizer.encode(doc.text, { add_special_tokens: false }).ids);
    chars += doc.text.length;
  }
  writeFileSync(pairs[i + 1], Buffer.from(new Uint16Array(ids).buffer));
  console.log(`${pairs[i]}: ${docs.length} docs, ${ids.length} tokens, ${(chars / ids.length).toFixed(2)} chars/token`);
}
