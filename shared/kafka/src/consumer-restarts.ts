import { type BackoffPolicy, backoffDelay } from './backoff';
import { classifyKafkajsError, isKafkajsError } from './kafkajs-log';

/**
 * True when a crash kafkajs will not restart from was caused by brokers being away. kafkajs restarts
 * its consumer only after errors it calls retriable, and calls "no broker could name the group
 * coordinator" non-retriable although a broker restart is what causes it (tulios/kafkajs#1630, #1445).
 */
export function isOutageCrash(error: unknown): boolean {
  return isKafkajsError(error) && classifyKafkajsError(error).reason === 'unavailable';
}

/** Restarts of a kafkajs consumer that kafkajs itself will not make. */
export interface ConsumerRestarts {
  /**
   * Call with each CRASH event's error and `restart` flag. Schedules a restart when kafkajs gave up
   * on an outage. Returns whether the consumer restarts at all (by kafkajs or by this).
   */
  crashed(error: Error, kafkajsRestarts: boolean): boolean;
  /** Call when the consumer joined its group: the back-off starts over. */
  joined(): void;
  /** No restart after this (call before disconnecting on purpose). */
  stop(): void;
}

/**
 * Restarts a consumer after crashes kafkajs gives up on when brokers being away caused them, with
 * back-off (default 1 s doubling to 30 s, jittered) for as long as they stay away. `restart` connects,
 * subscribes and runs the consumer again (kafkajs disconnected it before reporting the crash); when it
 * rejects, that counts as another crash. `onCrash` hears every crash with whether anybody restarts.
 */
export function consumerRestarts(options: {
  restart: () => Promise<void>;
  onCrash?: (error: Error, restarting: boolean) => void;
  backoff?: BackoffPolicy;
}): ConsumerRestarts {
  const policy = options.backoff ?? { initialMs: 1000, maxMs: 30_000 };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let attempts = 0;

  const crashed = (error: Error, kafkajsRestarts: boolean): boolean => {
    const restartHere = !kafkajsRestarts && !stopped && isOutageCrash(error);
    options.onCrash?.(error, kafkajsRestarts || restartHere);
    if (restartHere) schedule();
    return kafkajsRestarts || restartHere;
  };

  const schedule = (): void => {
    clearTimeout(timer);
    attempts++;
    timer = setTimeout(
      () => {
        timer = undefined;
        if (stopped) return;
        options.restart().catch((error: unknown) => {
          // Callers may wrap kafkajs's error (with it as the cause): judge the cause.
          const cause = error instanceof Error && isKafkajsError(error.cause) ? error.cause : error;
          crashed(cause instanceof Error ? cause : new Error(String(cause)), false);
        });
      },
      backoffDelay(policy, attempts),
    );
  };

  return {
    crashed,
    joined: () => {
      attempts = 0;
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
