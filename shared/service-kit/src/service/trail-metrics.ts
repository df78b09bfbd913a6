import { Gauge, type Registry } from 'prom-client';
import { mirroredCounter } from './metrics';

/**
 * Exposes the emitter's counts, read at scrape time: records sent, dropped and failed sends as
 * counters, the records buffered as a gauge.
 */
/** What the trail's emitter (`TrailEmitter` of `@sandbox-routing/trail`) reports. */
export interface TrailStatsSource {
  stats(): { sent: number; dropped: number; failedSends: number; buffered: number };
}

export function registerTrailMetrics(registry: Registry, emitter: TrailStatsSource): void {
  mirroredCounter(
    registry,
    'sandbox_routing_trail_records_sent_total',
    'Trail records published.',
    () => emitter.stats().sent,
  );
  mirroredCounter(
    registry,
    'sandbox_routing_trail_records_dropped_total',
    'Trail records dropped (buffer full while Kafka was away, or unsent at shutdown).',
    () => emitter.stats().dropped,
  );
  mirroredCounter(
    registry,
    'sandbox_routing_trail_send_failures_total',
    'Failed sends of trail records (retried).',
    () => emitter.stats().failedSends,
  );
  new Gauge({
    name: 'sandbox_routing_trail_records_buffered',
    help: 'Trail records waiting to be sent.',
    registers: [registry],
    collect() {
      this.set(emitter.stats().buffered);
    },
  });
}
