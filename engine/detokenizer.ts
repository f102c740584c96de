/**
 * Incremental detokenization with stop strings, in one place for the API, SSE streaming and the CLI.
 *
 * Decoding follows vLLM's prefix/read offsets: for each new token, decode a short window of ids
 * ending at it, [prefixOffset, end), and compare with the decoding of [prefixOffset, readOffset):
 * what is new is the difference. A window that ends in U+FFFD (a UTF-8 character split across
 * byte-level tokens) is held until a later token completes it. Each token costs a decode of a few
 * tokens, not of the whole output, so a request is O(n), not O(n^2).
 *
 * Stop strings are searched only where one can newly end (the last maxStop - 1 characters plus the
 * new text). Text that could still turn out to start a stop string is held back, so what push()
 * releases never contains a stop string or part of one; the released pieces concatenate to `text`.
 */
export interface Decoder {
  decode(ids: readonly number[]): string;
}

/** How many earlier tokens a window keeps before the read offset (context for merges and spaces). */
const WINDOW = 6;

export interface StopHit {
  /** The output text, cut before the stop string. */
  text: string;
  stop: string;
}

export class Detokenizer {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;
  /** Decoded text of every completed character so far (stop strings not yet cut). */
  private decoded = "";
  /** Characters of `decoded` already released. */
  private released = 0;
  private readonly maxStop: number;
  private stopped: StopHit | null = null;
  /** Tokens decoded over all windows, for the O(n) check in tests. */
  decodedTokens = 0;

  constructor(
    private readonly decoder: Decoder,
    private readonly stops: readonly string[] = [],
  ) {
    this.maxStop = Math.max(0, ...stops.map((s) => s.length));
  }

  /** The stop string that ended the output, once one has. */
  get stop(): StopHit | null {
    return this.stopped;
  }

  /** The output text released so far (after a stop: the whole text, cut before it). */
  get text(): string {
    return this.decoded.slice(0, this.released);
  }

  /**
   * Add one token; returns the text that became final. After a stop string is found, the rest of
   * the text is cut and push() returns "" (check `stop`).
   */
  push(id: number): string {
    if (this.stopped) return "";
    this.ids.push(id);
    const prefix = this.decodeRange(this.prefixOffset, this.readOffset);
    const full = this.decodeRange(this.prefixOffset, this.ids.length);
    if (full.length > prefix.length && !full.endsWith("\uFFFD")) {
      const searchFrom = Math.max(0, this.decoded.length - this.maxStop + 1);
      this.decoded += full.slice(prefix.length);
      this.prefixOffset = Math.max(this.readOffset, this.ids.length - WINDOW);
      this.readOffset = this.ids.length;
      const hit = this.findStop(searchFrom);
      if (hit) {
        const delta = this.decoded.slice(this.released, hit.at);
        this.released = hit.at;
        this.decoded = this.decoded.slice(0, hit.at);
        this.stopped = { text: this.decoded, stop: hit.stop };
        return delta;
      }
    }
    return this.release(this.decoded.length - this.stopPrefixLength());
  }

  /** At the end of the output: everything not yet released (held-back stop prefixes, a split character). */
  flush(): string {
    if (this.stopped) return "";
    const rest = this.decodeRange(this.prefixOffset, this.ids.length).slice(this.decodeRange(this.prefixOffset, this.readOffset).length);
    this.decoded += rest;
    this.readOffset = this.ids.length;
    return this.release(this.decoded.length);
  }

  private release(upTo: number): string {
    if (upTo <= this.released) return "";
    const delta = this.decoded.slice(this.released, upTo);
    this.released = upTo;
    return delta;
  }

  private decodeRange(from: number, to: number): string {
    if (to <= from) return "";
    this.decodedTokens += to - from;
    return this.decoder.decode(this.ids.slice(from, to));
  }

  private findStop(from: number): { at: number; stop: string } | null {
    let best: { at: number; stop: string } | null = null;
    for (const stop of this.stops) {
      if (!stop) continue;
      const at = this.decoded.indexOf(stop, from);
      if (at >= 0 && (!best || at < best.at)) best = { at, stop };
    }
    return best;
  }

  /** The length of the longest tail of the unreleased text that is a proper prefix of a stop string. */
  private stopPrefixLength(): number {
    let longest = 0;
    const pending = this.decoded.length - this.released;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, pending); n > longest; n--) {
        if (this.decoded.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
