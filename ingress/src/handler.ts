/**
 * The ingress's own step of the decide-once consumer (`@sandbox-routing/kafka`): for an event this
 * instance owns, validate it and start its workflow on the worker owner the decision names (door
 * routing, decided once); and the `ingress.decided` trail record of every outcome. Deciding, forwarding
 * to forks, fences and dead letters are the consumer's.
 */
import { isSpanContextValid, TraceFlags, trace } from '@opentelemetry/api';
import {
  type CarriedDecision,
  decidedOwnerOf,
  type InstanceIdentity,
  ownerLabel,
  RoutingError,
  runWithCarriedDecision,
  runWithRoutingKey,
  type WorkloadRef,
} from '@sandbox-routing/core';
import {
  type ConsumedRecord,
  coordinatesOf,
  type DeadLetterPublisher,
  DecideOnceHandler,
  type DecideOnceMode,
  type DecideOnceOptions,
  type FieldLogger,
  type Processed,
  type RecordContext,
  type RecordOutcome,
} from '@sandbox-routing/kafka';
import { eventIdIn, parseEvent, workflowIdOfEvent } from '@sandbox-routing/sample';
import { type IngressDecidedRecord, TRAIL_RECORD_VERSION, type TrailEmitter } from '@sandbox-routing/trail';
import { WorkflowExecutionAlreadyStartedError, type WorkflowStartOptions } from '@temporalio/client';
import { classifyStartError } from './errors';
import type { IngressMetrics } from './metrics';
import { WORKFLOW_FOR_EVENT_TYPE, workflowIdFor } from './workflows';

/**
 * The trace id of the record's `decide` span (active while the outcome is recorded), null when it is not
 * exported (tracing off, or not sampled): a link to it would lead nowhere.
 */
function tracedDecision(): string | null {
  const context = trace.getActiveSpan()?.spanContext();
  return context && isSpanContextValid(context) && (context.traceFlags & TraceFlags.SAMPLED) !== 0
    ? context.traceId
    : null;
}

/** Starts workflows; the app's one is a Temporal client with door routing and a deadline per call. */
export interface WorkflowStarter {
  /**
   * Starts `workflowType`; resolves with the first run's id. Rejects with the Temporal client's errors
   * (`WorkflowExecutionAlreadyStartedError`, a `ServiceError` with a gRPC status, a routing error).
   * `signal` aborts it at shutdown.
   */
  start(workflowType: string, options: WorkflowStartOptions, signal: AbortSignal): Promise<string>;
}

export interface EventHandlerDeps {
  identity: InstanceIdentity;
  /** `decide` on the baseline (with the worker's routes in `alsoDecide`), `process-all` in a fork. */
  mode: DecideOnceMode;
  starter: WorkflowStarter;
  /** The shared task queue; door routing moves a start to its owner's queue. */
  sharedTaskQueue: string;
  /** The worker's baseline workload: whose owner a decision names for the workflow. */
  workerBaseline: WorkloadRef;
  deadLetters: Pick<DeadLetterPublisher, 'publish'>;
  maxEventBytes: number;
  logger: FieldLogger;
  metrics: IngressMetrics;
  /** Where the `ingress.decided` trail record of each event goes (the results topic); none: not emitted. */
  trail?: Pick<TrailEmitter, 'emit'>;
}

/** The trail's actions: what the ingress did with an event (control records are not events). */
const TRAIL_ACTIONS: ReadonlySet<string> = new Set(['started', 'forwarded', 'duplicate', 'dead-lettered']);

/** Records remembered with an unanswered start at most (the oldest is forgotten first). */
const MAX_UNCERTAIN_STARTS = 10_000;

/** What the ingress brings to the decide-once consumer: its processing step and its trail. */
export type IngressProcessingDeps = Omit<EventHandlerDeps, 'mode' | 'deadLetters'>;

/** The ingress's step (`process`) and its trail of every outcome (`onOutcome`), for the decide-once consumer. */
export function ingressProcessing(
  deps: IngressProcessingDeps,
): Pick<DecideOnceOptions, 'process' | 'onOutcome' | 'tracerName' | 'recordNoun'> {
  const ingress = new IngressProcessor(deps);
  return {
    process: (record, context) => ingress.process(record, context),
    onOutcome: (outcome) => ingress.recorded(outcome),
    tracerName: '@sandbox-routing/ingress',
    recordNoun: 'event',
  };
}

/** The ingress's handler: the decide-once consumer with the ingress's processing and trail. */
export function createEventHandler(deps: EventHandlerDeps): DecideOnceHandler {
  return new DecideOnceHandler({
    identity: deps.identity,
    mode: deps.mode,
    deadLetters: deps.deadLetters,
    logger: deps.logger,
    metrics: deps.metrics,
    ...ingressProcessing(deps),
  });
}

class IngressProcessor {
  /**
   * Records (`topic/partition/offset`) whose last start attempt went unanswered (timed out, cancelled,
   * failed without a refusal), with that answer: their retry tells its own start from a duplicate.
   */
  private readonly uncertainStarts = new Map<string, string>();

  constructor(private readonly deps: IngressProcessingDeps) {}

  /** Validates the event and starts its workflow (on the decided worker owner's queue, when decided). */
  async process(record: ConsumedRecord, context: RecordContext): Promise<Processed> {
    const { deps } = this;
    const { routingKey, decision, signal } = context;
    const parsed = parseEvent(record.value, deps.maxEventBytes);
    if (!parsed.ok) return { status: 'dead-letter', reason: parsed.reason, detail: parsed.detail };
    const event = parsed.event;
    const workflowType = WORKFLOW_FOR_EVENT_TYPE[event.type];
    if (!workflowType) {
      return {
        status: 'dead-letter',
        reason: 'unknown-type',
        detail: `no workflow handles event type "${event.type}"`,
      };
    }

    const workflowId = workflowIdFor(event);
    const options: WorkflowStartOptions = {
      workflowId,
      // Also after the first run completed: Temporal's default would start a second run of a
      // redelivered event once the first one closed (within the namespace's retention).
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      taskQueue: deps.sharedTaskQueue,
      args: [event],
      memo: { ingestedBy: context.instance, routingKey: routingKey ?? null, eventTime: event.time },
    };
    const startedAt = performance.now();
    const start = () => deps.starter.start(workflowType, options, signal);
    const fields = { eventId: event.id, workflowId };
    const delivery = coordinatesOf(record);
    try {
      const runId = await (decision
        ? runWithCarriedDecision(decision, start)
        : runWithRoutingKey(routingKey, start));
      this.uncertainStarts.delete(delivery);
      deps.metrics.startSeconds.observe((performance.now() - startedAt) / 1000);
      return { status: 'done', action: 'started', span: 'owned', fields: { ...fields, runId } };
    } catch (error) {
      if (signal.aborted) return { status: 'stopped' };
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        const unanswered = this.uncertainStarts.get(delivery);
        this.uncertainStarts.delete(delivery);
        // An earlier attempt of this very record went unanswered (a timeout, a cancellation) and
        // Temporal has the workflow now: most likely that attempt started it, so this is the event's
        // start, not a duplicate of another delivery. Either way the event has one run.
        if (unanswered !== undefined) {
          return {
            status: 'done',
            action: 'started',
            span: 'owned',
            fields: {
              ...fields,
              startedBy: 'an earlier attempt of this delivery',
              earlierAnswer: unanswered,
            },
          };
        }
        // A redelivery: an earlier delivery started it. Done.
        return { status: 'done', action: 'duplicate', span: 'duplicate', fields };
      }
      const failure = classifyStartError(error);
      if (!failure.final) {
        // Not an answer: the start may have happened. Back off; the retry finds it "already started".
        if (!(error instanceof RoutingError)) {
          this.uncertainStarts.delete(delivery);
          this.uncertainStarts.set(delivery, failure.description);
          if (this.uncertainStarts.size > MAX_UNCERTAIN_STARTS) {
            const oldest = this.uncertainStarts.keys().next().value;
            if (oldest !== undefined) this.uncertainStarts.delete(oldest);
          }
        }
        return {
          status: 'retry',
          operation: 'workflow start',
          error: new Error(failure.description, { cause: error }),
        };
      }
      this.uncertainStarts.delete(delivery);
      // Temporal refused the start for good (e.g. an invalid argument): keep the event, with the answer.
      return {
        status: 'dead-letter',
        reason: 'start-rejected',
        detail: failure.description,
        facts: { grpc: failure.grpc },
        fields,
      };
    }
  }

  /** The owners a decision names, as trail records spell them (`decided`). */
  private decided(
    decision: CarriedDecision | undefined,
    routingKey: string | undefined,
    owner: string | null,
  ): { ingress: string; worker: string } | null {
    if (!decision) return routingKey || owner === null ? null : { ingress: owner, worker: owner };
    const ingress = decidedOwnerOf(decision, this.deps.identity.baseline);
    const worker = decidedOwnerOf(decision, this.deps.workerBaseline);
    return ingress && worker ? { ingress: ownerLabel(ingress), worker: ownerLabel(worker) } : null;
  }

  /**
   * The `ingress.decided` trail record: what this instance did with the event, for the console and
   * load tests (publish → decided). Never blocks or fails the event: the emitter only buffers.
   */
  recorded(outcome: RecordOutcome): void {
    const { trail, identity } = this.deps;
    if (!trail || !TRAIL_ACTIONS.has(outcome.action)) return;
    const { action, record, fields } = outcome;
    const string = (value: unknown) => (typeof value === 'string' ? value : null);
    const eventId = string(fields.eventId) ?? eventIdIn(record.value);
    trail.emit({
      version: TRAIL_RECORD_VERSION,
      kind: 'ingress.decided',
      time: new Date().toISOString(),
      eventId,
      routingKey: outcome.routingKey ?? null,
      instance: ownerLabel(
        identity.sandboxName ? { kind: 'sandbox', sandboxName: identity.sandboxName } : { kind: 'baseline' },
      ),
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      action: action as IngressDecidedRecord['action'],
      owner: outcome.owner,
      decided: this.decided(outcome.decision, outcome.routingKey, outcome.owner),
      // The owner's workflow, also for a forward: readers attach the decision to that workflow's trail.
      workflowId: action === 'dead-lettered' || eventId === null ? null : workflowIdOfEvent(eventId),
      detail:
        action === 'forwarded'
          ? string(fields.topic)
          : action === 'dead-lettered'
            ? string(fields.reason)
            : null,
      traceId: tracedDecision(),
    });
  }
}
