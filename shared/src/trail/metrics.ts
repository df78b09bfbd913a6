import { Gauge, type Registry } from 'prom-client';
import type { TrailEmitter } from './emitter';

/** Exposes the emitter's counts (read at scrape time): sent, dropped, failed sends, buffered. */
export function registerTrailMetrics(registry: Registry, emitter: TrailEmitter): void {
  const gauge = (name: string, help: string, value: (stats: ReturnType<TrailEmitter['stats']>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(emitter.stats()));
      },
    });
  gauge('sandbox_routing_trail_records_sent_total', 'Trail records published.', (s) => s.sent);
  gauge(
    'sandbox_routing_trail_records_dropped_total',
    'Trail records dropped (buffer full while Kafka was away, or unsent at shutdown).',
    (s) => s.dropped,
  );
  gauge(
    'sandbox_routing_trail_send_failures_total',
    'Failed sends of trail records (retried).',
    (s) => s.failedSends,
  );
  gauge('sandbox_routing_trail_records_buffered', 'Trail records waiting to be sent.', (s) => s.buffered);
}
