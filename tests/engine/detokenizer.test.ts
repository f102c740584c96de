import { describe, expect, it } from "vitest";
import { Detokenizer, type Decoder } from "@/engine";
import { TextTokenizer } from "@/engine/tokenizer";
import { TARGET_DIR } from "../support/models";

/** A decoder over a fixed piece table; "\uFFFD" pieces stand for bytes that only decode in pairs. */
function pieces(table: Record<number, string>, pairs: Record<string, string> = {}): Decoder {
  return {
    decode(ids) {
      let out = "";
      for (let i = 0; i < ids.length; i++) {
        const pair = pairs[`${ids[i]},${ids[i + 1]}`];
        if (pair !== undefined) { out += pair; i++; } else out += table[ids[i]];
      }
      return out;
    },
  };
}

function run(decoder: Decoder, stops: string[], ids: number[]) {
  const d = new Detokenizer(decoder, stops);
  const deltas: string[] = [];
  for (const id of ids) {
    deltas.push(d.push(id));
    if (d.stop) break;
  }
  deltas.push(d.flush());
  return { deltas, text: d.text, stop: d.stop, detokenizer: d };
}

const words = pieces({ 1: "The", 2: " jury", 3: " said", 4: "\n", 5: "User", 6: ":", 7: " no", 8: "Us", 9: "ually", 10: "caf", 11: "\uFFFD", 12: "\uFFFD" }, { "11,12": "é" });

describe("incremental detokenizer", () => {
  it("releases each token's new text once; the deltas are the text", () => {
    const r = run(words, [], [1, 2, 3]);
    expect(r.deltas).toEqual(["The", " jury", " said", ""]);
    expect(r.text).toBe("The jury said");
  });

  it("holds back a tail that could start a stop string and never releases the stop", () => {
    const r = run(words, ["\nUser:"], [1, 4, 5, 6, 7]);
    expect(r.deltas).toEqual(["The", "", "", "", ""]);
    expect(r.text).toBe("The");
    expect(r.stop).toEqual({ text: "The", stop: "\nUser:" });
  });

  it("releases held-back text once it is not a stop after all", () => {
    const r = run(words, ["\nUser:"], [1, 4, 8, 9]);
    expect(r.deltas).toEqual(["The", "", "", "\nUsually", ""]);
    expect(r.text).toBe("The\nUsually");
  });

  it("finds a stop string spanning several tokens, and one inside a single token", () => {
    expect(run(words, ["jury said"], [1, 2, 3, 7]).stop).toEqual({ text: "The ", stop: "jury said" });
    expect(run(words, ["ur"], [1, 2, 3]).stop).toEqual({ text: "The j", stop: "ur" });
  });

  it("waits for the rest of a character split across tokens", () => {
    const r = run(words, [], [10, 11, 12, 2]);
    expect(r.deltas).toEqual(["caf", "", "é", " jury", ""]);
  });

  it("on the shipped tokenizer: deltas concatenate to the full decode, with O(1) decode work per token", () => {
    const tokenizer = new TextTokenizer(`${TARGET_DIR}/tokenizer.json`);
    const text = "The jury said, \"naïve café\" — déjà vu… 東京 and 🙂 emoji; then more words follow here. ".repeat(20);
    const ids = tokenizer.encode(text);
    const r = run(tokenizer, [], ids);
    expect(r.deltas.join("")).toBe(tokenizer.decode(ids));
    expect(r.deltas.every((d) => !d.includes("\uFFFD"))).toBe(true);
    // O(n): a bounded window per token, not the whole output (which would be ~ids.length / 2 per token).
    expect(r.detokenizer.decodedTokens / ids.length).toBeLessThan(16);
  });

  it("on the shipped tokenizer: a stop string is cut wherever the tokens split it", () => {
    const tokenizer = new TextTokenizer(`${TARGET_DIR}/tokenizer.json`);
    const text = "Yes, the jury said so.\nUser: and then";
    const r = run(tokenizer, ["\nUser:"], tokenizer.encode(text));
    expect(r.text).toBe("Yes, the jury said so.");
    expect(r.deltas.join("")).toBe("Yes, the jury said so.");
  });
});
