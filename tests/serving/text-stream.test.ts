import { describe, expect, it } from "vitest";
import { TextStream } from "@/app/_lib/openai/text-stream";

/** Feed successive decodings of a growing output; return what was sent along the way and at the end. */
function stream(stops: string[], decodings: string[], final: string): { deltas: string[]; sent: string } {
  const s = new TextStream(stops);
  const deltas = decodings.map((full) => s.next(full));
  deltas.push(s.finish(final));
  return { deltas, sent: deltas.join("") };
}

describe("TextStream", () => {
  it("sends each new piece of text once", () => {
    expect(stream([], ["The", "The jury", "The jury said"], "The jury said")).toEqual({ deltas: ["The", " jury", " said", ""], sent: "The jury said" });
  });

  it("holds back a tail that could start a stop string, and never sends the stop", () => {
    const { deltas, sent } = stream(["\nUser:"], ["Yes.", "Yes.\n", "Yes.\nUs", "Yes.\nUser: no"], "Yes.");
    expect(deltas.slice(0, 3)).toEqual(["Yes.", "", ""]);
    expect(sent).toBe("Yes.");
  });

  it("releases held-back text once it turns out not to be a stop", () => {
    const { deltas, sent } = stream(["\nUser:"], ["A\n", "A\nUsually"], "A\nUsually");
    expect(deltas).toEqual(["A", "\nUsually", ""]);
    expect(sent).toBe("A\nUsually");
  });

  it("waits for the rest of a multi-byte character split across tokens", () => {
    const { deltas } = stream([], ["caf\uFFFD", "café"], "café");
    expect(deltas).toEqual(["caf", "é", ""]);
  });
});
