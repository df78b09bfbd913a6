/**
 * Delays between reconnect attempts following the Luby sequence (1, 1, 2, 1, 1, 2, 4, 1, 1, 2, 1, 1, 2, 4, 8, …)
 * times a base step, capped, with jitter — the policy of Signadot's Go watch client. Unlike plain
 * exponential backoff it keeps coming back to short delays, so a routeserver that returns after an
 * outage of unpredictable length is found again soon, while the average rate of attempts still falls.
 */
export interface LubyBackoffOptions {
  /** Delay of a `1` in the sequence. */
  baseMs: number;
  /** Largest delay before jitter; reaching it restarts the sequence. */
  maxMs: number;
  /** Each delay is moved by up to ± this fraction of itself (0.1 = ±10 %). */
  jitter: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

export class LubyBackoff {
  private exponent = 0;
  private turns = 0;
  private readonly random: () => number;

  constructor(private readonly options: LubyBackoffOptions) {
    this.random = options.random ?? Math.random;
  }

  /** The next term of the Luby sequence (reluctant doubling, Knuth TAOCP 7.2.2.2). */
  private nextTerm(): number {
    const term = 2 ** this.exponent;
    if ((this.turns & term) === 0) {
      this.exponent = 0;
      this.turns++;
    } else {
      this.exponent++;
    }
    return term;
  }

  /** The delay before the next attempt, in milliseconds. */
  next(): number {
    let target = this.nextTerm() * this.options.baseMs;
    if (target > this.options.maxMs) {
      this.reset();
      target = Math.min(this.nextTerm() * this.options.baseMs, this.options.maxMs);
    }
    const jitter = (this.random() * 2 - 1) * this.options.jitter * target;
    return Math.max(0, Math.round(target + jitter));
  }

  /** Starts the sequence over, e.g. after a connection that worked. */
  reset(): void {
    this.exponent = 0;
    this.turns = 0;
  }
}
