/**
 * Admission control in front of the engine: at most `maxRunning` generations run at once, at most
 * `maxWaiting` wait for a slot, and a request that finds both full is refused at once (the server
 * answers 429 with Retry-After) instead of queueing without bound. Admission is decided synchronously,
 * before a response starts, so a refused request changes nothing. A waiting request whose client goes
 * away leaves the queue immediately.
 */

export class QueueFullError extends Error {
  constructor(
    message: string,
    /** Seconds after which a retry has a fair chance of being admitted. */
    readonly retryAfterS: number,
  ) {
    super(message);
    this.name = "QueueFullError";
  }
}

/** Frees the slot a ticket was granted; calling it more than once is harmless. */
export type Release = () => void;

export interface Ticket {
  /**
   * Resolves when the request may run, or at once when `signal` aborts (the request then runs only
   * long enough to end as cancelled). Always call the returned release when done.
   */
  ready(signal?: AbortSignal): Promise<Release>;
}

export interface QueueStats {
  running: number;
  waiting: number;
  maxRunning: number;
  maxWaiting: number;
  admitted: number;
  rejected: number;
}

export class AdmissionQueue {
  private running = 0;
  /** Waiting requests in arrival order; calling one hands it a slot. */
  private readonly waiters: (() => void)[] = [];
  private admitted = 0;
  private rejected = 0;
  /** Exponential moving average of how long a slot is held, for Retry-After. */
  private meanServiceMs = 1000;

  constructor(
    readonly maxRunning: number,
    readonly maxWaiting: number,
  ) {
    if (!(maxRunning >= 1)) throw new Error(`maxRunning must be at least 1, got ${maxRunning}`);
    if (!(maxWaiting >= 0)) throw new Error(`maxWaiting must be at least 0, got ${maxWaiting}`);
  }

  stats(): QueueStats {
    return {
      running: this.running,
      waiting: this.waiters.length,
      maxRunning: this.maxRunning,
      maxWaiting: this.maxWaiting,
      admitted: this.admitted,
      rejected: this.rejected,
    };
  }

  /** Reserve a place, or throw QueueFullError when every slot and every waiting place is taken. */
  admit(): Ticket {
    if (this.running >= this.maxRunning && this.waiters.length >= this.maxWaiting) {
      this.rejected++;
      const retryAfterS = Math.max(1, Math.ceil((this.meanServiceMs * (this.waiters.length + 1)) / this.maxRunning / 1000));
      throw new QueueFullError(
        `the server is at capacity (${this.running} running, ${this.waiters.length} waiting); retry after ${retryAfterS} s`,
        retryAfterS,
      );
    }
    this.admitted++;
    if (this.running < this.maxRunning) {
      this.running++;
      return { ready: async () => this.releaser() };
    }
    // A waiter's turn resolves true when a finishing request hands it its slot, false when it leaves.
    let settle!: (granted: boolean) => void;
    const turn = new Promise<boolean>((resolve) => (settle = resolve));
    const waiter = () => settle(true);
    this.waiters.push(waiter);
    const leave = () => {
      const at = this.waiters.indexOf(waiter);
      if (at < 0) return;
      this.waiters.splice(at, 1);
      settle(false);
    };
    return {
      ready: async (signal) => {
        if (signal?.aborted) leave();
        signal?.addEventListener("abort", leave, { once: true });
        const granted = await turn;
        signal?.removeEventListener("abort", leave);
        return granted ? this.releaser() : () => {};
      },
    };
  }

  private releaser(): Release {
    const started = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.meanServiceMs = 0.8 * this.meanServiceMs + 0.2 * (performance.now() - started);
      const next = this.waiters.shift();
      if (next) next();
      else this.running--;
    };
  }
}
