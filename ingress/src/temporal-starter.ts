import type { Client, Connection, WorkflowStartOptions } from '@temporalio/client';
import type { WorkflowStarter } from './handler';

/**
 * Settles promises early when their signal aborts, with one `abort` listener per signal however many
 * of them are in flight. A listener per call (and the ingress has up to `INGRESS_MAX_IN_FLIGHT` ×
 * partitions starts in flight on the consumer loop's one signal) made Node warn
 * `MaxListenersExceededWarning … 11 abort listeners` once more than ten starts were in flight.
 */
class AbortRace {
  private readonly waiting = new WeakMap<AbortSignal, Set<(reason: unknown) => void>>();

  /** `promise`'s outcome, or `signal.reason` as soon as `signal` aborts (`promise` is then left to settle unobserved). */
  run<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) {
      promise.catch(() => undefined); // its failure, later, must not become an unhandled rejection
      return Promise.reject(signal.reason);
    }
    let rejects = this.waiting.get(signal);
    if (!rejects) {
      const forSignal = new Set<(reason: unknown) => void>();
      signal.addEventListener(
        'abort',
        () => {
          for (const reject of forSignal) reject(signal.reason);
          forSignal.clear();
        },
        { once: true },
      );
      this.waiting.set(signal, forSignal);
      rejects = forSignal;
    }
    const pending = rejects;
    return new Promise<T>((resolve, reject) => {
      pending.add(reject);
      promise.then(resolve, reject).finally(() => pending.delete(reject));
    });
  }
}

/** The ingress's starter, and what its stop waits for before closing the connection. */
export interface TemporalStarter extends WorkflowStarter {
  /**
   * Resolves once every start given up on (at shutdown) has ended, at most after `timeoutMs`. Each
   * ends by its deadline; closing the connection before that crashed the process when the client's
   * retry of one fired on the closed channel ("Channel has been shut down", thrown in a timer).
   */
  settled(timeoutMs: number): Promise<void>;
}

export interface TemporalStarterOptions {
  /** The client's workflow API (with door routing in its interceptors). */
  workflow: Pick<Client['workflow'], 'start'>;
  /** The client's connection: each start gets its own deadline. */
  connection: Pick<Connection, 'withDeadline'>;
  /** `TEMPORAL_CALL_TIMEOUT_MS`: the deadline of each start. */
  callTimeoutMs: number;
}

/**
 * The ingress's workflow starter: a Temporal client call with a deadline, given up when `signal` aborts
 * (the call itself runs on to its deadline; nothing waits for it). Not `connection.withAbortSignal`:
 * the client adds a listener per call to that signal and never removes it.
 */
export function temporalStarter(options: TemporalStarterOptions): TemporalStarter {
  const race = new AbortRace();
  const calls = new Set<Promise<unknown>>();
  return {
    async start(workflowType: string, startOptions: WorkflowStartOptions, signal: AbortSignal) {
      const call = options.connection.withDeadline(Date.now() + options.callTimeoutMs, () =>
        options.workflow.start(workflowType, startOptions),
      );
      const settled = call.then(
        () => undefined,
        () => undefined,
      );
      calls.add(settled);
      void settled.finally(() => calls.delete(settled));
      return (await race.run(call, signal)).firstExecutionRunId;
    },
    async settled(timeoutMs: number) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(calls),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
