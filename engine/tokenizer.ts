/** The Hugging Face tokenizer.json of a model folder, read offline through @huggingface/tokenizers. */
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  readonly eosId: number;

  constructor(path: string, eosId?: number) {
    const json = JSON.parse(readFileSync(path, "utf8"));
    // Byte-level BPE is lossless; the library's default clean-up would glue " ' " to "'".
    this.tokenizer = new Tokenizer(json, { clean_up_tokenization_spaces: false });
    const special = (json.added_tokens ?? []).find((t: { content: string }) => t.content === "<|endoftext|>");
    const eos = eosId ?? special?.id;
    if (typeof eos !== "number") throw new Error(`${path}: no EOS token (pass eos_token_id in config.json)`);
    this.eosId = eos;
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return "";
    return this.tokenizer.decode([...ids], { skip_special_tokens: true });
  }

  /** The text of one token as it appears in the output stream. */
  tokenText(id: number): string {
    return this.decode([id]);
  }
}
