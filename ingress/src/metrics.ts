import { type ConsumerMetrics, consumerMetrics } from '@sandbox-routing/kafka';
import { Histogram, type Registry } from 'prom-client';

/** The ingress's metrics: the consumer's (what it did with each event) and how long workflow starts take. */
export interface IngressMetrics extends ConsumerMetrics {
  startSeconds: Histogram;
}

export function ingressMetrics(registry: Registry): IngressMetrics {
  return {
    ...consumerMetrics(registry, 'sandbox_routing_ingress'),
    startSeconds: new Histogram({
      name: 'sandbox_routing_ingress_workflow_start_seconds',
      help: 'Time of one successful workflow start.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
