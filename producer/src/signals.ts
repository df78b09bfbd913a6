import type { PublishLog } from './log';

/** SIGINT/SIGTERM turned into an abort: a command stops what it is doing and still reports. */
export interface SignalStop {
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  stoppedBy(): NodeJS.Signals | undefined;
  /** Stops listening (call when the command ends). */
  release(): void;
}

/**
 * Listens once for SIGINT and SIGTERM: the first aborts `signal` and is logged with `message`; a
 * second one finds no listener and ends the process as usual, so an impatient Ctrl-C still works.
 */
export function stopOnSignals(log: Pick<PublishLog, 'warn'>, message: string): SignalStop {
  const stop = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy ??= signal;
    log.warn({ signal }, message);
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    stoppedBy: () => stoppedBy,
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
