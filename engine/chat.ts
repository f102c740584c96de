/**
 * Chat prompts. Messages are rendered to text by the model folder's Jinja chat template
 * (tokenizer_config.json "chat_template", as Hugging Face transformers and transformers.js do), so a
 * real exported chat model works unchanged. Models without one, such as the shipped pair (plain-text
 * LMs trained on the Brown corpus), get SpecLens's plain-text template:
 *
 *     <system message>\n\n        (system and developer messages)
 *     User: <message>\n
 *     Assistant: <message>\n
 *     Assistant:                  (the generation prompt)
 *
 * with "\nUser:" as a stop string, so the model answers one turn instead of writing the user's next.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";

export interface ChatMessageText {
  role: "system" | "developer" | "user" | "assistant";
  content: string;
}

export const DEFAULT_CHAT_TEMPLATE = [
  "{%- for message in messages -%}",
  "{%- if message.role == 'system' or message.role == 'developer' -%}{{ message.content }}{{ '\\n\\n' }}",
  "{%- elif message.role == 'user' -%}User: {{ message.content }}{{ '\\n' }}",
  "{%- else -%}Assistant: {{ message.content }}{{ '\\n' }}",
  "{%- endif -%}",
  "{%- endfor -%}",
  "{%- if add_generation_prompt -%}Assistant:{%- endif -%}",
].join("");

export const DEFAULT_CHAT_STOP = ["\nUser:"];

export class ChatTemplate {
  private readonly template: Template;

  private constructor(
    /** Where the template came from: the folder's tokenizer_config.json, or "speclens-default". */
    readonly source: string,
    templateText: string,
    /** Stop strings every chat request gets in addition to its own. */
    readonly stop: readonly string[],
    private readonly specialTokens: { bos_token: string; eos_token: string },
  ) {
    this.template = new Template(templateText);
  }

  /** The template of a Hugging Face model folder, or SpecLens's default when it has none. */
  static forModelFolder(dir: string): ChatTemplate {
    const path = join(dir, "tokenizer_config.json");
    const config = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>) : {};
    const tokenText = (v: unknown) => (typeof v === "string" ? v : typeof v === "object" && v && "content" in v ? String(v.content) : "");
    const special = { bos_token: tokenText(config.bos_token), eos_token: tokenText(config.eos_token) };
    if (typeof config.chat_template === "string") return new ChatTemplate(path, config.chat_template, [], special);
    return new ChatTemplate("speclens-default", DEFAULT_CHAT_TEMPLATE, DEFAULT_CHAT_STOP, special);
  }

  /** The prompt text for `messages`, ending where the assistant's reply begins. */
  render(messages: readonly ChatMessageText[]): string {
    return this.template.render({ messages, add_generation_prompt: true, ...this.specialTokens });
  }
}
