import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TelemetryConfig } from '../config';

export interface Telemetry {
  shutdown(): Promise<void>;
}

/** A span processor that drops spans: spans still exist (so `traceparent` propagates), nothing exported. */
const dropSpans: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

/**
 * Starts OpenTelemetry: W3C trace-context + baggage propagators, the kafkajs instrumentation (which
 * writes `traceparent` and `baggage` into Kafka headers and runs `eachMessage` in the extracted
 * context), and a tracer provider even when exporting is off, so trace context still propagates.
 *
 * Call it before `kafkajs` is first required: the instrumentation patches the module on load.
 */
export function startTelemetry(config: TelemetryConfig): Telemetry {
  const processors: SpanProcessor[] =
    config.tracesExporter === 'otlp'
      ? [
          new BatchSpanProcessor(
            new OTLPTraceExporter(
              config.otlpEndpoint ? { url: `${config.otlpEndpoint.replace(/\/$/, '')}/v1/traces` } : {},
            ),
          ),
        ]
      : config.tracesExporter === 'console'
        ? [new BatchSpanProcessor(new ConsoleSpanExporter())]
        : [dropSpans];
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
    spanProcessors: processors,
    // Metrics are served by prom-client on /metrics and logs by pino. Empty lists, not omitted: left
    // unset, NodeSDK reads OTEL_*_EXPORTER, whose empty default is an OTLP exporter to localhost:4318.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [new KafkaJsInstrumentation()],
    // Resource detectors probe cloud metadata endpoints; not needed and slow off-cloud.
    resourceDetectors: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
