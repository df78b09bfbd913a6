import { pollUntil } from './poll';

/** One span of a trace as Jaeger's query API returns it, flattened for assertions. */
export interface TraceSpan {
  traceId: string;
  spanId: string;
  /** The span it is a child of, when that is in the same trace. */
  parentSpanId: string | undefined;
  /** `service.name` of the process that made it. */
  service: string;
  operation: string;
  attributes: Record<string, unknown>;
  /** Microseconds since the epoch, and microseconds. */
  startTime: number;
  duration: number;
}

interface JaegerTrace {
  traceID: string;
  spans: {
    traceID: string;
    spanID: string;
    operationName: string;
    references?: { refType: string; traceID: string; spanID: string }[];
    startTime: number;
    duration: number;
    tags: { key: string; value: unknown }[];
    processID: string;
  }[];
  processes: Record<string, { serviceName: string }>;
}

function flatten(trace: JaegerTrace): TraceSpan[] {
  return trace.spans.map((span) => ({
    traceId: span.traceID,
    spanId: span.spanID,
    parentSpanId: span.references?.find((r) => r.refType === 'CHILD_OF' && r.traceID === span.traceID)
      ?.spanID,
    service: trace.processes[span.processID]?.serviceName ?? '?',
    operation: span.operationName,
    attributes: Object.fromEntries(span.tags.map((tag) => [tag.key, tag.value])),
    startTime: span.startTime,
    duration: span.duration,
  }));
}

/** The spans of trace `traceId` in the Jaeger at `jaegerUrl`, or `undefined` while it has none. */
export async function readTrace(jaegerUrl: string, traceId: string): Promise<TraceSpan[] | undefined> {
  const response = await fetch(`${jaegerUrl}/api/traces/${traceId}`, { signal: AbortSignal.timeout(5000) });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`Jaeger: GET /api/traces/${traceId}: HTTP ${response.status}`);
  const body = (await response.json()) as { data: JaegerTrace[] | null };
  const trace = body.data?.[0];
  return trace ? flatten(trace) : undefined;
}

/**
 * Polls Jaeger until trace `traceId` satisfies `complete` (spans arrive from several processes, each
 * exporting in batches), then returns its spans.
 */
export function awaitTrace(
  jaegerUrl: string,
  traceId: string,
  complete: (spans: TraceSpan[]) => boolean,
  timeoutMs = 30_000,
): Promise<TraceSpan[]> {
  return pollUntil(
    async () => {
      const spans = await readTrace(jaegerUrl, traceId);
      return spans && complete(spans) ? spans : undefined;
    },
    { description: `trace ${traceId} in Jaeger`, timeoutMs, intervalMs: 250 },
  );
}
