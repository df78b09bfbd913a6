import { Counter, Gauge, type Registry } from 'prom-client';

/** What a decide-once consumer counts: each record by what became of it, and partitions backing off. */
export interface ConsumerMetrics {
  events: Counter<'action' | 'owner'>;
  backingOff: Gauge<'operation'>;
}

/**
 * The consumer's metrics under `prefix` (the service's, e.g. `sandbox_routing_ingress`):
 * `<prefix>_events_total{action,owner}` and `<prefix>_backing_off_partitions{operation}`.
 */
export function consumerMetrics(registry: Registry, prefix: string): ConsumerMetrics {
  return {
    events: new Counter({
      name: `${prefix}_events_total`,
      help:
        'Records by action (processed: what the service did; forwarded to a sandbox topic; dead-lettered; ' +
        'fenced; skipped) and the owner of their routing key.',
      labelNames: ['action', 'owner'],
      registers: [registry],
    }),
    backingOff: new Gauge({
      name: `${prefix}_backing_off_partitions`,
      help: "Partitions paused and backing off, by the operation that failed (the service's own, forward, ownership, dead-letter write, fence).",
      labelNames: ['operation'],
      registers: [registry],
    }),
  };
}
