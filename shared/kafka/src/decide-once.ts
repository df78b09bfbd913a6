/**
 * Decide once (DESIGN §4, §9): what a Kafka consumer workload does with each record, for any service
 * built on it. The baseline's group reads the topic and decides each record's owner for its workload,
 * once: a sandbox that forks the workload gets the record forwarded, byte for byte plus the decision, to
 * a topic of its own; everything else the baseline processes itself. A fork reads only its topic and
 * processes all of it, honouring the decision it carries. The service supplies what "process" means
 * (start a workflow, send a notification, …) as a {@link RecordProcessor}.
 *
 * The handler never retries in place: it answers `retry` and the consumer loop redelivers the record
 * after a back-off (nothing committed). Bad input goes to the dead-letter topic with the reason.
 */
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  CARRIED_DECISION_HEADER,
  type CarriedDecision,
  decideOwnership,
  extractRoutingKey,
  type InstanceIdentity,
  instanceLabel,
  mentionsRoutingKey,
  type NeverSyncedPolicy,
  type Owner,
  type OwnershipDecision,
  ownerLabel,
  parseCarriedDecision,
  ROUTING_ATTRIBUTES,
  RoutingError,
  type RoutingSpanDecision,
  type WorkloadRoutes,
} from '@sandbox-routing/core';
import type { Outcome } from './consumer-loop';
import type { DeadLetterFacts, DeadLetterPublisher } from './dead-letter';
import {
  FENCE_GROUP_HEADER,
  fenceOf,
  isControlRecord,
  isForAnotherGroup,
  RETURNED_FOR_HEADER,
} from './fence';
import type { SandboxForwarder } from './forward-topics';
import type { FieldLogger } from './kafkajs-log';
import type { ConsumerMetrics } from './metrics';
import { type ConsumedRecord, coordinatesOf, headerMap, headerText } from './records';
import { BrokerError } from './seam';

/** What the service's own step made of a record it owns. */
export type Processed =
  /** Done for good: `action` names it (metrics, logs, the service's trail); `span` how the span says it. */
  | { status: 'done'; action: string; span?: RoutingSpanDecision; fields?: Record<string, unknown> }
  /** Not now (a dependency is away): deliver it again after a back-off, nothing committed. */
  | { status: 'retry'; operation: string; error: Error }
  /** Bad input, or an answer no retry changes: keep the record in the dead-letter topic, with the reason. */
  | {
      status: 'dead-letter';
      reason: string;
      detail: string;
      facts?: DeadLetterFacts;
      fields?: Record<string, unknown>;
    }
  /** Shutdown interrupted it: leave it uncommitted. */
  | { status: 'stopped' };

/** What the service's step knows of the record beside its bytes. */
export interface RecordContext {
  routingKey: string | undefined;
  /** This instance (`baseline`, or its sandbox's label). */
  instance: string;
  /**
   * The decision the record goes by, with the owners of every workload it names: made here by the
   * baseline, or carried with a forwarded record (a fork honours it). Undefined without a key (the
   * baseline's, everywhere) or for a forwarded record that carries none.
   */
  decision: CarriedDecision | undefined;
  /** Aborts at shutdown. */
  signal: AbortSignal;
}

export type RecordProcessor = (record: ConsumedRecord, context: RecordContext) => Promise<Processed>;

/** What became of a record (every outcome but a retry): for the service's own trail or audit. */
export interface RecordOutcome {
  action: string;
  record: ConsumedRecord;
  routingKey: string | undefined;
  /** Owner of the key for this consumer's workload (`ownerLabel`), when known. */
  owner: string | null;
  decision: CarriedDecision | undefined;
  fields: Record<string, unknown>;
}

/**
 * How an instance treats what it reads.
 * - `decide` (the baseline, on the source topic): decide each record's owner for this workload with
 *   `routes` (and, for the decision it carries, the owners of the workloads in `alsoDecide`: those the
 *   processing puts work on, e.g. the worker a workflow is started on), forward a fork's records, process
 *   the rest.
 * - `process-all` (a fork, on its own topic): process every record by the decision it carries.
 */
export type DecideOnceMode =
  | {
      kind: 'decide';
      routes: WorkloadRoutes;
      alsoDecide?: readonly WorkloadRoutes[];
      neverSyncedPolicy?: NeverSyncedPolicy | 'default';
      forwarder: Pick<SandboxForwarder, 'forward' | 'fence' | 'topicOf'>;
    }
  | { kind: 'process-all' };

export interface DecideOnceOptions {
  identity: InstanceIdentity;
  /**
   * The baseline's consumer group (the workload's, as declared). With several workloads on one source
   * topic, a teardown's fences and moved-back records name the group they are for; the others pass them
   * by. Unset: every such record is this consumer's (one consumer per topic).
   */
  group?: string;
  mode: DecideOnceMode;
  process: RecordProcessor;
  deadLetters: Pick<DeadLetterPublisher, 'publish'>;
  logger: FieldLogger;
  metrics: ConsumerMetrics;
  onOutcome?: (outcome: RecordOutcome) => void;
  /** Name of the tracer of the `decide <topic>` spans (the service's). */
  tracerName?: string;
  /** What log lines call a record (`event started`); default `record`. */
  recordNoun?: string;
}

/** Routeserver and broker trouble that a later attempt can get past. */
function isTransient(error: unknown): boolean {
  if (error instanceof RoutingError) return true;
  return error instanceof BrokerError && error.retriable;
}

const retry = (operation: string, error: unknown): Outcome => ({
  status: 'retry',
  operation,
  error: error instanceof Error ? error : new Error(String(error)),
});

/** How the record's span names what the consumer itself did. */
const SPAN_DECISION: Record<string, RoutingSpanDecision> = {
  forwarded: 'forwarded',
  'dead-lettered': 'dead-lettered',
  fenced: 'fenced',
  skipped: 'skipped',
};

/**
 * The per-record logic of a decide-once consumer, free of any Kafka client: read the key, decide (the
 * baseline) or honour (a fork), then forward, process or dead-letter.
 */
export class DecideOnceHandler {
  private readonly instance: string;
  private readonly tracer;

  constructor(private readonly options: DecideOnceOptions) {
    this.instance = instanceLabel(options.identity.sandboxName);
    this.tracer = trace.getTracer(options.tracerName ?? '@sandbox-routing/kafka');
  }

  /**
   * Handles one record inside a `decide <topic>` span, a child of kafkajs's `process <topic>` span: with
   * records in flight the delivery (and so that span) ends before the decision is made, so the decision
   * and what processing does go under a span that lasts until the record is done.
   */
  handle(record: ConsumedRecord, signal: AbortSignal): Promise<Outcome> {
    return this.tracer.startActiveSpan(
      `decide ${record.topic}`,
      { kind: SpanKind.INTERNAL },
      async (span) => {
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
      },
    );
  }

  private async decide(record: ConsumedRecord, signal: AbortSignal): Promise<Outcome> {
    if (isForAnotherGroup(record, this.options.group)) {
      // Another workload's teardown: its fence, or a record it moved back that this group handled before.
      return this.recorded('skipped', record, {
        routingKey: undefined,
        owner: null,
        decision: undefined,
        fields: {
          forGroup:
            headerText(record.headers, FENCE_GROUP_HEADER) ?? headerText(record.headers, RETURNED_FOR_HEADER),
        },
      });
    }
    if (isControlRecord(record)) return this.control(record);
    const { mode } = this.options;
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
        {
          routingKey,
          owner: null,
          decision: undefined,
        },
      );
    }
    if (mode.kind !== 'decide')
      return this.process(record, routingKey, this.honoured(record, routingKey), signal);

    let ownership: OwnershipDecision;
    try {
      ownership = await decideOwnership(
        mode.routes,
        this.options.identity,
        routingKey,
        mode.neverSyncedPolicy,
      );
    } catch (error) {
      if (isTransient(error)) return retry('ownership', error);
      throw error;
    }
    // A policy that would skip records before the first sync: the deciding instance must wait instead.
    if (!ownership.owner) return retry('ownership', new Error('the route table has not synced yet'));
    let decision: CarriedDecision | undefined;
    if (ownership.owner.kind === 'sandbox') {
      const sandbox = ownership.owner.sandboxName;
      try {
        decision = await this.decision(routingKey as string, ownership.owner);
        if ((await mode.forwarder.forward(record, sandbox, decision)) === 'forwarded') {
          return this.recorded('forwarded', record, {
            routingKey,
            owner: ownerLabel(ownership.owner),
            decision,
            fields: { topic: mode.forwarder.topicOf(sandbox) },
          });
        }
      } catch (error) {
        if (isTransient(error)) return retry('forward', error);
        if (!(error instanceof BrokerError)) throw error;
        return this.deadLetter(record, 'forward-failed', `to sandbox ${sandbox}: ${error.message}`, {
          routingKey,
          owner: ownerLabel(ownership.owner),
          decision,
        });
      }
    }
    // The baseline owns it (or its sandbox is gone: then the baseline owns the key now). Decide the other
    // workloads here too, so processing, the service's records and any later reader agree on one answer.
    try {
      if (routingKey) decision = await this.decision(routingKey, { kind: 'baseline' });
    } catch (error) {
      if (isTransient(error)) return retry('ownership', error);
      throw error;
    }
    return this.process(record, routingKey, decision, signal);
  }

  /** This instance's decision for `key`: `owner` for this workload, and the others' owners now. */
  private async decision(key: string, owner: Owner): Promise<CarriedDecision> {
    const { mode, identity } = this.options;
    const others = mode.kind === 'decide' ? (mode.alsoDecide ?? []) : [];
    const owners = [{ workload: identity.baseline, owner }];
    for (const routes of others) owners.push({ workload: routes.baseline, owner: await routes.ownerOf(key) });
    return { routingKey: key, owners, decidedBy: this.instance, decidedAt: new Date().toISOString() };
  }

  /**
   * The decision the baseline forwarded with a record (a fork honours it). A record without one
   * (forwarded by an older version) or with one that does not fit its key goes without (the service
   * decides at its own step, e.g. door routing), and the log says so.
   */
  private honoured(record: ConsumedRecord, routingKey: string | undefined): CarriedDecision | undefined {
    const text = headerText(record.headers, CARRIED_DECISION_HEADER);
    if (text === undefined || routingKey === undefined) return undefined;
    const carried = parseCarriedDecision(text);
    if (carried?.routingKey === routingKey) return carried;
    this.options.logger.warn(
      { record: coordinatesOf(record), routingKey },
      `the record's ${CARRIED_DECISION_HEADER} header is not a decision for its key; deciding again`,
    );
    return undefined;
  }

  private async process(
    record: ConsumedRecord,
    routingKey: string | undefined,
    decision: CarriedDecision | undefined,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const known = { routingKey, owner: this.instance, decision };
    const processed = await this.options.process(record, {
      routingKey,
      instance: this.instance,
      decision,
      signal,
    });
    switch (processed.status) {
      case 'done':
        return this.recorded(
          processed.action,
          record,
          { ...known, fields: processed.fields ?? {} },
          processed.span,
        );
      case 'dead-letter':
        return this.deadLetter(
          record,
          processed.reason,
          processed.detail,
          known,
          processed.facts,
          processed.fields,
        );
      default:
        return processed;
    }
  }

  /** Control records: fence markers of a sandbox teardown. */
  private async control(record: ConsumedRecord): Promise<Outcome> {
    const { mode } = this.options;
    const fence = fenceOf(record);
    const none = { routingKey: undefined, owner: null, decision: undefined };
    if (!fence || mode.kind !== 'decide') {
      // In a sandbox topic a marker has done its job; a malformed one is nothing to act on.
      return this.recorded('skipped', record, { ...none, fields: { control: true } });
    }
    try {
      const result = await mode.forwarder.fence(record, fence.sandbox);
      return this.recorded('fenced', record, {
        ...none,
        fields: { sandbox: fence.sandbox, fenceId: fence.fenceId, result },
      });
    } catch (error) {
      if (isTransient(error)) return retry('fence', error);
      throw error;
    }
  }

  private async deadLetter(
    record: ConsumedRecord,
    reason: string,
    detail: string,
    known: Omit<RecordOutcome, 'action' | 'record' | 'fields'>,
    facts?: DeadLetterFacts,
    fields: Record<string, unknown> = {},
  ): Promise<Outcome> {
    try {
      const result = await this.options.deadLetters.publish(record, reason, detail, facts);
      return this.recorded('dead-lettered', record, {
        ...known,
        fields: {
          ...fields,
          reason: result.reason,
          ...(result.reason === reason ? {} : { rejection: reason }),
          movedOut: result.movedOut,
          detail: detail.slice(0, 200),
        },
      });
    } catch (error) {
      if (isTransient(error)) return retry('dead-letter write', error);
      throw error; // e.g. DeadLetterRefusedError: nowhere to keep the record, the service must stop
    }
  }

  private recorded(
    action: string,
    record: ConsumedRecord,
    known: Omit<RecordOutcome, 'action' | 'record'>,
    span?: RoutingSpanDecision,
  ): Outcome {
    const owner = known.owner ?? 'unknown';
    this.options.metrics.events.inc({ action, owner });
    const { fields } = known;
    // The record's `decide <topic>` span (under kafkajs's `process <topic>`) says the decision.
    trace.getActiveSpan()?.setAttributes({
      [ROUTING_ATTRIBUTES.decision]: span ?? SPAN_DECISION[action] ?? 'owned',
      [ROUTING_ATTRIBUTES.owner]: owner,
      ...(typeof fields.reason === 'string' ? { [ROUTING_ATTRIBUTES.reason]: fields.reason } : {}),
      ...(typeof fields.eventId === 'string' ? { [ROUTING_ATTRIBUTES.eventId]: fields.eventId } : {}),
    });
    this.options.logger.info(
      { action, record: coordinatesOf(record), routingKey: known.routingKey, owner: known.owner, ...fields },
      `${this.options.recordNoun ?? 'record'} ${action}`,
    );
    this.options.onOutcome?.({ action, record, ...known });
    return { status: 'done', action };
  }
}
