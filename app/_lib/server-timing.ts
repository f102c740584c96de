import type { GenerateResult } from "@/engine";
import type { GenerationHandle } from "./serving/generation";

/**
 * A generation endpoint's phases as a Server-Timing header (milliseconds, two decimals), which browser
 * devtools and `curl -v` show: the phases the handler marks in order (auth, parse, prepare, start), then
 * for a complete reply queue (waiting for an engine slot), generate (the engine's own total), trace (the
 * trace written to SQLite before answering) and total (the handler up to the reply). docs/serving.md.
 */
export class PhaseTimer {
  private readonly started = performance.now();
  private last = this.started;
  private readonly phases: [string, number][] = [];

  /** Ends the phase since the previous mark (or the start) under `name`. */
  mark(name: string): void {
    const now = performance.now();
    this.phases.push([name, now - this.last]);
    this.last = now;
  }

  /** The phases of a finished generation, measured where they ran, and the handler's total so far. */
  finish(timings: GenerationHandle["timings"], result: GenerateResult): void {
    this.phases.push(["queue", timings.queueMs], ["generate", result.timings.totalMs], ["trace", timings.traceWriteMs], ["total", performance.now() - this.started]);
  }

  header(): string {
    return this.phases.map(([name, ms]) => `${name};dur=${ms.toFixed(2)}`).join(", ");
  }
}
