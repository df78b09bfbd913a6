import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  extractRoutingKey,
  type IngressDecidedRecord,
  type InstanceIdentity,
  instanceLabel,
  type Logger,
  mentionsRoutingKey,
  type OwnershipDecision,
  ownerLabel,
  parseEvent,
  ROUTING_ATTRIBUTES,
  RoutingError,
  type RoutingSpanDecision,
  runWithRoutingKey,
  TRAIL_RECORD_VERSION,
  type TrailEmitter,
  workflowIdOfEvent,
} from '@sandbox-routing/shared';
import { WorkflowExecutionAlreadyStartedError, type WorkflowStartOptions } from '@temporalio/client';
import type { Outcome } from './consumer-loop';
import type { DeadLetterPublisher, DeadLetterReason } from './dead-letter';
import { isRetriableStartError } from './errors';
import { fenceOf, isControlRecord } from './fence';
import { type ConsumedRecord, coordinatesOf, headerMap } from './kafka/records';
import { BrokerError } from './kafka/seam';
import type { IngressMetrics } from './metrics';
import type { SandboxForwarder } from './sandbox-topics';
import { WORKFLOW_FOR_EVENT_TYPE, workflowIdFor } from './workflows';

const tracer = trace.getTracer('@sandbox-routing/ingress');

/** Starts workflows; the app's one is a Temporal client with door routing and a deadline per call. */
export interface WorkflowStarter {
  /**
   * Starts `workflowType`; resolves with the first run's id. Rejects with the Temporal client's errors
   * (`WorkflowExecutionAlreadyStartedError`, a `ServiceError` with a gRPC status, a routing error).
   * `signal` aborts it at shutdown.
   */
  start(workflowType: string, options: WorkflowStartOptions, signal: AbortSignal): Promise<string>;
}

/**
 * How this instance treats the records it reads.
 * - `decide` (the baseline, reading the events topic): decide each event's owner once; forward the
 *   events of sandboxes that fork the ingress to their topics; process the rest.
 * - `process-all` (a fork, reading its sandbox's topic): the baseline decided already; process all.
 */
export type HandlerMode =
  | {
      kind: 'decide';
      /** Who owns `key` for the ingress's own workload (the ingress route table). */
      decideOwner: (key: string | undefined) => Promise<OwnershipDecision>;
      forwarder: Pick<SandboxForwarder, 'forward' | 'fence' | 'topicOf'>;
    }
  | { kind: 'process-all' };

export interface EventHandlerDeps {
  identity: InstanceIdentity;
  mode: HandlerMode;
  starter: WorkflowStarter;
  /** The shared task queue; door routing moves a start to its owner's queue. */
  sharedTaskQueue: string;
  deadLetters: Pick<DeadLetterPublisher, 'publish'>;
  maxEventBytes: number;
  logger: Logger;
  metrics: IngressMetrics;
  /** Where the `ingress.decided` trail record of each event goes (the results topic); none: not emitted. */
  trail?: Pick<TrailEmitter, 'emit'>;
}

/** The trail's actions: what the ingress did with an event (control records are not events). */
const TRAIL_ACTIONS: ReadonlySet<string> = new Set(['started', 'forwarded', 'duplicate', 'dead-lettered']);

/** The id of the event in a record's value, when it is JSON with a string `id` (the trail's join key). */
function eventIdIn(record: ConsumedRecord): string | null {
  try {
    const id: unknown = JSON.parse(record.value?.toString('utf8') ?? '')?.id;
    return typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : null;
  } catch {
    return null;
  }
}

/** What the ingress did with an event (the `action` label of `sandbox_routing_ingress_events_total`). */
export type EventAction = 'started' | 'duplicate' | 'forwarded' | 'dead-lettered' | 'fenced' | 'skipped';

/** The decision as the record's span names it (`sandbox_routing.decision`). */
const SPAN_DECISION: Record<EventAction, RoutingSpanDecision> = {
  started: 'owned',
  duplicate: 'duplicate',
  forwarded: 'forwarded',
  'dead-lettered': 'dead-lettered',
  fenced: 'fenced',
  skipped: 'skipped',
};

const done = (action: EventAction): Outcome => ({ status: 'done', action });
const retry = (operation: string, error: unknown): Outcome => ({
  status: 'retry',
  operation,
  error: error instanceof Error ? error : new Error(String(error)),
});

/** Routeserver and broker trouble that a later attempt can get past. */
function isTransient(error: unknown): boolean {
  if (error instanceof RoutingError) return true;
  return error instanceof BrokerError && error.retriable;
}

/**
 * The ingress's per-record logic, free of any Kafka client: read the routing key from the headers,
 * decide the owner (baseline only), then forward the record to its sandbox's topic, or validate it and
 * start its workflow (door-routed to the owner's worker), or dead-letter it. It never retries in place:
 * it answers `retry` and the consumer loop redelivers the record after a back-off.
 */
export class EventHandler {
  private readonly instance: string;

  constructor(private readonly deps: EventHandlerDeps) {
    this.instance = instanceLabel(deps.identity.sandboxName);
  }

  /**
   * Handles one record inside a `decide <topic>` span, a child of kafkajs's `process <topic>` span: with
   * records in flight the delivery (and so that span) ends before the decision is made, so the decision
   * and the `StartWorkflow` span go under a span that lasts until the record is done.
   */
  handle(record: ConsumedRecord, signal: AbortSignal): Promise<Outcome> {
    return tracer.startActiveSpan(`decide ${record.topic}`, { kind: SpanKind.INTERNAL }, async (span) => {
      try {
        const outcome = await this.decide(record, signal);
        if (outcome.status === 'retry') {
          span.setAttributes({
            [ROUTING_ATTRIBUTES.decision]: 'retry',
            [ROUTING_ATTRIBUTES.reason]: `${outcome.operation}: ${outcome.error.message}`,
          });
        }
        return outcome;
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  private async decide(record: ConsumedRecord, signal: AbortSignal): Promise<Outcome> {
    if (isControlRecord(record)) return this.control(record);
    const { deps } = this;
    const headers = headerMap(record.headers);
    const routingKey = extractRoutingKey(headers)?.key;
    if (routingKey !== undefined)
      trace.getActiveSpan()?.setAttribute(ROUTING_ATTRIBUTES.routingKey, routingKey);
    if (routingKey === undefined && mentionsRoutingKey(headers)) {
      // Nobody can tell who owns it.
      return this.deadLetter(
        record,
        'bad-headers',
        'a routing-key carrier is present but holds no valid key',
      );
    }

    let owner = this.instance;
    if (deps.mode.kind === 'decide') {
      let decision: OwnershipDecision;
      try {
        decision = await deps.mode.decideOwner(routingKey);
      } catch (error) {
        if (isTransient(error)) return retry('ownership', error);
        throw error;
      }
      // A policy that would skip events before the first sync: the deciding instance must wait instead.
      if (!decision.owner) return retry('ownership', new Error('the route table has not synced yet'));
      owner = ownerLabel(decision.owner);
      if (decision.owner.kind === 'sandbox') {
        const sandbox = decision.owner.sandboxName;
        try {
          if ((await deps.mode.forwarder.forward(record, sandbox)) === 'forwarded') {
            return this.recorded('forwarded', record, {
              routingKey,
              owner,
              topic: deps.mode.forwarder.topicOf(sandbox),
            });
          }
          owner = this.instance; // the sandbox is gone: the baseline owns the key now
        } catch (error) {
          if (isTransient(error)) return retry('forward', error);
          if (!(error instanceof BrokerError)) throw error;
          return this.deadLetter(record, 'forward-failed', `to sandbox ${sandbox}: ${error.message}`);
        }
      }
    }
    return this.process(record, routingKey, owner, signal);
  }

  /** Validates the event and starts its workflow. */
  private async process(
    record: ConsumedRecord,
    routingKey: string | undefined,
    owner: string,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const { deps } = this;
    const parsed = parseEvent(record.value, deps.maxEventBytes);
    if (!parsed.ok) return this.deadLetter(record, parsed.reason, parsed.detail);
    const event = parsed.event;
    const workflowType = WORKFLOW_FOR_EVENT_TYPE[event.type];
    if (!workflowType) {
      return this.deadLetter(record, 'unknown-type', `no workflow handles event type "${event.type}"`);
    }

    const workflowId = workflowIdFor(event);
    const options: WorkflowStartOptions = {
      workflowId,
      // Also after the first run completed: Temporal's default would start a second run of a
      // redelivered event once the first one closed (within the namespace's retention).
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      taskQueue: deps.sharedTaskQueue,
      args: [event],
      memo: { ingestedBy: this.instance, routingKey: routingKey ?? null, eventTime: event.time },
    };
    const startedAt = performance.now();
    const start = () => deps.starter.start(workflowType, options, signal);
    try {
      const runId = await (routingKey ? runWithRoutingKey(routingKey, start) : start());
      deps.metrics.startSeconds.observe((performance.now() - startedAt) / 1000);
      return this.recorded('started', record, { routingKey, owner, eventId: event.id, workflowId, runId });
    } catch (error) {
      if (signal.aborted) return { status: 'stopped' };
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        // A redelivery: an earlier delivery started it. Done.
        return this.recorded('duplicate', record, { routingKey, owner, eventId: event.id, workflowId });
      }
      if (isRetriableStartError(error)) return retry('workflow start', error);
      // Temporal refused the start for good (e.g. an invalid argument): keep the event, with the reason.
      return this.deadLetter(record, 'start-rejected', (error as Error).message);
    }
  }

  /** Control records: fence markers of a sandbox teardown. */
  private async control(record: ConsumedRecord): Promise<Outcome> {
    const { deps } = this;
    const fence = fenceOf(record);
    if (!fence || deps.mode.kind !== 'decide') {
      // In a sandbox topic a marker has done its job; a malformed one is nothing to act on.
      return this.recorded('skipped', record, { control: true });
    }
    try {
      const result = await deps.mode.forwarder.fence(record, fence.sandbox);
      return this.recorded('fenced', record, { sandbox: fence.sandbox, fenceId: fence.fenceId, result });
    } catch (error) {
      if (isTransient(error)) return retry('fence', error);
      throw error;
    }
  }

  private async deadLetter(
    record: ConsumedRecord,
    reason: DeadLetterReason,
    detail: string,
  ): Promise<Outcome> {
    try {
      const result = await this.deps.deadLetters.publish(record, reason, detail);
      return this.recorded('dead-lettered', record, {
        reason: result.reason,
        ...(result.reason === reason ? {} : { rejection: reason }),
        movedOut: result.movedOut,
        detail: detail.slice(0, 200),
      });
    } catch (error) {
      if (isTransient(error)) return retry('dead-letter write', error);
      throw error; // e.g. DeadLetterRefusedError: nowhere to keep the event, the service must stop
    }
  }

  private recorded(action: EventAction, record: ConsumedRecord, fields: Record<string, unknown>): Outcome {
    const owner = typeof fields.owner === 'string' ? fields.owner : 'unknown';
    this.deps.metrics.events.inc({ action, owner });
    // The record's `decide <topic>` span (under kafkajs's `process <topic>`) says the decision.
    trace.getActiveSpan()?.setAttributes({
      [ROUTING_ATTRIBUTES.decision]: SPAN_DECISION[action],
      [ROUTING_ATTRIBUTES.owner]: owner,
      ...(typeof fields.reason === 'string' ? { [ROUTING_ATTRIBUTES.reason]: fields.reason } : {}),
      ...(typeof fields.eventId === 'string' ? { [ROUTING_ATTRIBUTES.eventId]: fields.eventId } : {}),
    });
    this.deps.logger.info({ action, record: coordinatesOf(record), ...fields }, `event ${action}`);
    if (this.deps.trail && TRAIL_ACTIONS.has(action)) this.emitDecision(action, record, fields);
    return done(action);
  }

  /**
   * The `ingress.decided` trail record: what this instance did with the event, for the console and
   * load tests (publish → decided). Never blocks or fails the event: the emitter only buffers.
   */
  private emitDecision(action: EventAction, record: ConsumedRecord, fields: Record<string, unknown>): void {
    const string = (value: unknown) => (typeof value === 'string' ? value : null);
    const eventId = string(fields.eventId) ?? eventIdIn(record);
    this.deps.trail?.emit({
      version: TRAIL_RECORD_VERSION,
      kind: 'ingress.decided',
      time: new Date().toISOString(),
      eventId,
      routingKey: string(fields.routingKey),
      instance: this.instance,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      action: action as IngressDecidedRecord['action'],
      owner: string(fields.owner),
      // The owner's workflow, also for a forward: readers attach the decision to that workflow's trail.
      workflowId: action === 'dead-lettered' || eventId === null ? null : workflowIdOfEvent(eventId),
      detail:
        action === 'forwarded'
          ? string(fields.topic)
          : action === 'dead-lettered'
            ? string(fields.reason)
            : null,
    });
  }
}
