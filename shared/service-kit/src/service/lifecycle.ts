import type { ReadinessCheck } from './health-server';

/** What the stop steps log through (a pino logger fits). */
interface WarnLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** One step of a service's stop: what it is (its failure's log line says so) and what it does. */
export type StopStep = readonly [what: string, step: () => unknown];

/**
 * Runs a service's stop steps one after the other. A step that fails is logged (`<what> failed`) and the
 * stop goes on: the consumer's last commit must not be lost to a trail that cannot flush, nor a Kafka
 * away keep the health server open.
 */
export async function stopInOrder(logger: WarnLogger, steps: readonly StopStep[]): Promise<void> {
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (error) {
      logger.warn({ error: error instanceof Error ? error.message : String(error) }, `${what} failed`);
    }
  }
}

/** What readiness reads of a decide-once consumer (`DecideOnceConsumer` of `@sandbox-routing/kafka`). */
export interface ConsumerReadinessSource {
  readonly state: string;
  readonly backingOff: { readonly size: number };
}

/**
 * The readiness checks of every Kafka consumer service: a member of its group, Kafka reachable, no
 * partition backing off, not stopping. The service adds its own (route tables, Temporal).
 */
export function consumerReadinessChecks(
  consumer: ConsumerReadinessSource,
  kafka: { readonly reachable: boolean },
  stopping: () => boolean,
): ReadinessCheck[] {
  return [
    { name: 'consumer-member', ready: () => consumer.state === 'member' },
    { name: 'kafka-reachable', ready: () => kafka.reachable },
    { name: 'not-backing-off', ready: () => consumer.backingOff.size === 0 },
    { name: 'not-stopping', ready: () => !stopping() },
  ];
}
