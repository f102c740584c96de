/**
 * Incremental text for streamed responses. Each step decodes the whole output so far; what may be sent
 * is the part that can no longer change or be cut: nothing from a stop string on, a trailing U+FFFD (an incomplete UTF-8 sequence
 * that a later byte-level token completes) is held back, and so is any tail that could be the start of
 * a stop string (the engine cuts the text before a stop, which must never have been streamed).
 */
export class TextStream {
  private sent = 0;

  constructor(private readonly stops: readonly string[]) {}

  /** The new text that is safe to send, given the full decoded output so far. */
  next(full: string): string {
    let safe = full.length;
    // The step that completes a stop string decodes it too; the text ends before it.
    for (const stop of this.stops) {
      const at = full.indexOf(stop);
      if (at >= 0) safe = Math.min(safe, at);
    }
    while (safe > 0 && full[safe - 1] === "\uFFFD") safe--;
    safe -= this.stopPrefixAt(full.slice(0, safe));
    if (safe <= this.sent) return "";
    const delta = full.slice(this.sent, safe);
    this.sent = safe;
    return delta;
  }

  /** What is left to send of the final text (cut before any stop string by the engine). */
  finish(finalText: string): string {
    const rest = finalText.slice(this.sent);
    this.sent = finalText.length;
    return rest;
  }

  /** The length of the longest tail of `text` that is a proper prefix of some stop string. */
  private stopPrefixAt(text: string): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, text.length); n > longest; n--) {
        if (text.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
