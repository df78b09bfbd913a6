import type { Span } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { KafkaJsInstrumentation, type MessageInfo } from '@opentelemetry/instrumentation-kafkajs';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { extractRoutingKey, ROUTING_ATTRIBUTES } from '@sandbox-routing/core';
import type { TelemetryConfig } from '../config';

/** Kafka `send` and `process` spans say the routing key their message carries (read as the ingress reads it). */
function routingKeyAttribute(span: Span, { message }: MessageInfo): void {
  const key = extractRoutingKey(message.headers)?.key;
  if (key !== undefined) span.setAttribute(ROUTING_ATTRIBUTES.routingKey, key);
}

/** A running OpenTelemetry SDK. */
export interface Telemetry {
  /** True when spans leave the process (`OTEL_TRACES_EXPORTER` is `otlp` or `console`). */
  readonly exporting: boolean;
  /**
   * Where the SDK's spans end. Spans made outside the SDK's tracer provider (inside Temporal's
   * workflow sandbox) are handed to it too, so they leave through the same exporter.
   */
  readonly spanProcessor: SpanProcessor;
  /** The process's resource (service name, instance). */
  readonly resource: Resource;
  /** Exports the spans buffered so far. */
  flush(): Promise<void>;
  /** Flushes and stops; idempotent. */
  shutdown(): Promise<void>;
}

/** A span processor that drops spans: spans still exist (so `traceparent` propagates), nothing exported. */
const dropSpans: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

function spanProcessorFor(config: TelemetryConfig): SpanProcessor {
  switch (config.tracesExporter) {
    case 'otlp':
      return new BatchSpanProcessor(
        // Without an endpoint the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT itself, else
        // uses http://localhost:4318.
        new OTLPTraceExporter(
          config.otlpEndpoint ? { url: `${config.otlpEndpoint.replace(/\/$/, '')}/v1/traces` } : {},
        ),
      );
    case 'console':
      return new BatchSpanProcessor(new ConsoleSpanExporter());
    default:
      return dropSpans;
  }
}

/**
 * Starts OpenTelemetry: W3C trace-context + baggage propagators, the kafkajs instrumentation (which
 * writes `traceparent` and `baggage` into Kafka headers and runs `eachMessage` in the extracted
 * context), and a tracer provider even when exporting is off, so trace context still propagates.
 *
 * Services start it from their `--require` entry (`instrument()` in
 * `@sandbox-routing/service-kit/instrumentation`), before anything loads `kafkajs`: the instrumentation
 * patches the module when it is first required.
 */
export function startTelemetry(config: TelemetryConfig, instance?: string): Telemetry {
  const spanProcessor = spanProcessorFor(config);
  const resource = resourceFromAttributes({
    'service.name': config.serviceName,
    ...(instance ? { [ROUTING_ATTRIBUTES.instance]: instance } : {}),
  });
  const sdk = new NodeSDK({
    resource,
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
    spanProcessors: [spanProcessor],
    // Metrics are served by prom-client on /metrics and logs by pino. Empty lists, not omitted: left
    // unset, NodeSDK reads OTEL_*_EXPORTER, whose empty default is an OTLP exporter to localhost:4318.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new KafkaJsInstrumentation({ producerHook: routingKeyAttribute, consumerHook: routingKeyAttribute }),
    ],
    // Resource detectors probe cloud metadata endpoints; not needed and slow off-cloud.
    resourceDetectors: [],
    autoDetectResources: false,
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  return {
    exporting: config.tracesExporter !== 'none',
    spanProcessor,
    resource,
    flush: () => spanProcessor.forceFlush(),
    shutdown: () => {
      stopped ??= sdk.shutdown();
      return stopped;
    },
  };
}
