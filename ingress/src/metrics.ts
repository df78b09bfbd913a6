import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The ingress's own metrics: what it did with each event, and how long workflow starts take. */
export interface IngressMetrics {
  events: Counter<'action' | 'owner'>;
  startSeconds: Histogram;
  backingOff: Gauge<'operation'>;
}

export function ingressMetrics(registry: Registry): IngressMetrics {
  return {
    events: new Counter({
      name: 'sandbox_routing_ingress_events_total',
      help:
        'Records by action (started, duplicate, forwarded to a sandbox topic, dead-lettered, fenced, skipped) ' +
        'and the owner of their routing key.',
      labelNames: ['action', 'owner'],
      registers: [registry],
    }),
    startSeconds: new Histogram({
      name: 'sandbox_routing_ingress_workflow_start_seconds',
      help: 'Time of one successful workflow start.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    backingOff: new Gauge({
      name: 'sandbox_routing_ingress_backing_off_partitions',
      help: 'Partitions paused and backing off, by the operation that failed (workflow start, forward, ownership, dead-letter write, fence).',
      labelNames: ['operation'],
      registers: [registry],
    }),
  };
}
