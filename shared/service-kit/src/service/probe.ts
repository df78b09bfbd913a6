/** A dependency checked in the background: is it reachable right now? */
export interface ReachabilityProbe {
  /** True after the last check succeeded; false before the first success and after any failure. */
  readonly reachable: boolean;
  /** The last failure's message, while unreachable. */
  readonly lastError: string | undefined;
  stop(): void;
}

export interface ReachabilityProbeOptions {
  /** Names the dependency in log lines, e.g. `kafka` or `temporal`. */
  name: string;
  /** One cheap request to the dependency; resolving means reachable. */
  check: () => Promise<unknown>;
  /** Pause between the end of one check and the start of the next. */
  intervalMs: number;
  /** A check that has not answered within this counts as a failure. */
  timeoutMs: number;
  /** Told once per change: reachable again, or unreachable (with the reason). */
  logger?: { info(fields: object, message: string): void; warn(fields: object, message: string): void };
}

/**
 * Checks a dependency every `intervalMs` (never two checks at once), so readiness can say within
 * about `intervalMs + timeoutMs` that it went away, even when no work is flowing. Logs each change
 * once, not each failed check.
 */
export function startReachabilityProbe(options: ReachabilityProbeOptions): ReachabilityProbe {
  let state: 'unchecked' | 'reachable' | 'unreachable' = 'unchecked';
  let lastError: string | undefined = 'not checked yet';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const withTimeout = <T>(promise: Promise<T>): Promise<T> => {
    let timeout: NodeJS.Timeout | undefined;
    return Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timeout = setTimeout(
          () => reject(new Error(`no answer within ${options.timeoutMs} ms`)),
          options.timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timeout));
  };

  const round = async () => {
    try {
      await withTimeout(options.check());
      if (state === 'unreachable')
        options.logger?.info({ dependency: options.name }, `${options.name} reachable again`);
      state = 'reachable';
      lastError = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (state !== 'unreachable')
        options.logger?.warn({ dependency: options.name, error: message }, `${options.name} unreachable`);
      state = 'unreachable';
      lastError = message;
    }
    if (!stopped) {
      timer = setTimeout(() => void round(), options.intervalMs);
      timer.unref();
    }
  };
  void round();

  return {
    get reachable() {
      return state === 'reachable';
    },
    get lastError() {
      return lastError;
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
