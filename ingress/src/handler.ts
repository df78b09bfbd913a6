import {
  decideOwnership,
  extractRoutingKey,
  type InstanceIdentity,
  instanceLabel,
  type Logger,
  mentionsRoutingKey,
  type NeverSyncedPolicy,
  ownerLabel,
  parseEvent,
  type RouteTable,
  runWithRoutingKey,
} from '@sandbox-routing/shared';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { backOff } from 'exponential-backoff';
import type { EachMessagePayload } from 'kafkajs';
import type { DeadLetterPublisher, DeadLetterReason, MessageOrigin } from './dead-letter';
import { IngressStoppingError, isRetriableStartError } from './errors';
import type { IngressMetrics } from './metrics';
import { WORKFLOW_FOR_EVENT_TYPE, workflowIdFor } from './workflows';

export interface EventHandlerDeps {
  identity: InstanceIdentity;
  /** Rules of the ingress's own baseline workload: which ingress instance consumes which key. */
  ingressRoutes: RouteTable;
  neverSyncedPolicy: NeverSyncedPolicy | 'default';
  /** Temporal client whose interceptor door-routes starts to the owner's worker queue. */
  temporal: Client;
  sharedTaskQueue: string;
  deadLetters: DeadLetterPublisher;
  maxEventBytes: number;
  logger: Logger;
  metrics: IngressMetrics;
  /** True once shutdown began: retries stop and the message stays uncommitted. */
  isStopping(): boolean;
  /** Told when an operation starts or stops backing off (readiness, metrics). */
  onBackoff(what: string, backingOff: boolean): void;
}

const BACKOFF = { startingDelay: 200, maxDelay: 5000, timeMultiple: 2, jitter: 'full' as const };

/**
 * The ingress's per-message logic. For each event: read the routing key from the headers, decide
 * whether this instance owns it, validate it, and start its workflow (door-routed to the owner's
 * worker). Returning lets kafkajs commit the offset; throwing leaves it uncommitted.
 */
export class EventHandler {
  private readonly instance: string;

  constructor(private readonly deps: EventHandlerDeps) {
    this.instance = instanceLabel(deps.identity.sandboxName);
  }

  async handle({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const { deps } = this;
    const origin: MessageOrigin = { topic, partition, offset: message.offset };
    const match = extractRoutingKey(message.headers);
    const routingKey = match?.key;

    if (!match && mentionsRoutingKey(message.headers)) {
      // Nobody can tell who owns it; the baseline dead-letters it once, forks leave it alone.
      if (deps.identity.sandboxName) return this.record('skipped', origin, { routingKey, owner: 'unknown' });
      return this.deadLetter(
        message,
        origin,
        'bad-headers',
        'a routing-key carrier is present but holds no valid key',
        heartbeat,
      );
    }

    const decision = await this.retrying('ownership', heartbeat, () =>
      decideOwnership(deps.ingressRoutes, deps.identity, routingKey, deps.neverSyncedPolicy),
    );
    const owner = decision.owner ? ownerLabel(decision.owner) : 'unknown';
    if (!decision.owned)
      return this.record('skipped', origin, { routingKey, owner, reason: decision.reason });

    const parsed = parseEvent(message.value, deps.maxEventBytes);
    if (!parsed.ok) return this.deadLetter(message, origin, parsed.reason, parsed.detail, heartbeat);
    const event = parsed.event;
    const workflowType = WORKFLOW_FOR_EVENT_TYPE[event.type];
    if (!workflowType) {
      return this.deadLetter(
        message,
        origin,
        'unknown-type',
        `no workflow handles event type "${event.type}"`,
        heartbeat,
      );
    }

    const workflowId = workflowIdFor(event);
    const started = Date.now();
    const start = () =>
      deps.temporal.workflow.start(workflowType, {
        workflowId,
        // Also after the first run completed: Temporal's default would start a second run of a
        // redelivered event once the first one closed (within the namespace's retention).
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        taskQueue: deps.sharedTaskQueue,
        args: [event],
        memo: { ingestedBy: this.instance, routingKey: routingKey ?? null, eventTime: event.time },
      });
    try {
      const handle = await this.retrying('workflow start', heartbeat, () =>
        routingKey ? runWithRoutingKey(routingKey, start) : start(),
      );
      deps.metrics.startSeconds.observe((Date.now() - started) / 1000);
      this.record('started', origin, {
        routingKey,
        owner,
        eventId: event.id,
        workflowId,
        runId: handle.firstExecutionRunId,
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        // A redelivery: the first delivery started it. Success, commit.
        return this.record('duplicate', origin, { routingKey, owner, eventId: event.id, workflowId });
      }
      if (error instanceof IngressStoppingError) throw error;
      // Temporal refused the start for good (e.g. an invalid argument): keep the event, with the reason.
      return this.deadLetter(message, origin, 'start-rejected', (error as Error).message, heartbeat);
    }
  }

  /**
   * Runs `operation`, backing off (exponential, full jitter, capped at 5 s) while its errors are
   * retriable, heart-beating so the group keeps this member, and never returning a guess. The
   * partition is effectively paused meanwhile: nothing after this message is processed or committed.
   */
  private async retrying<T>(
    what: string,
    heartbeat: () => Promise<void>,
    operation: () => Promise<T>,
    isRetriable: (error: unknown) => boolean = isRetriableStartError,
  ): Promise<T> {
    let backingOff = false;
    try {
      return await backOff(operation, {
        ...BACKOFF,
        numOfAttempts: Number.MAX_SAFE_INTEGER,
        retry: async (error: unknown, attempt: number) => {
          if (this.deps.isStopping()) throw new IngressStoppingError(`stopping while retrying ${what}`);
          if (!isRetriable(error)) return false;
          if (!backingOff) this.deps.onBackoff(what, true);
          backingOff = true;
          this.deps.logger.warn({ attempt, error: (error as Error).message }, `${what} failed; backing off`);
          await heartbeat();
          return true;
        },
      });
    } finally {
      if (backingOff) this.deps.onBackoff(what, false);
    }
  }

  private async deadLetter(
    message: EachMessagePayload['message'],
    origin: MessageOrigin,
    reason: DeadLetterReason,
    detail: string,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    // Every failure to write is retried: the event must not be lost, and it is not committed until written.
    await this.retrying(
      'dead-letter write',
      heartbeat,
      () => this.deps.deadLetters.publish(message, origin, reason, detail),
      () => true,
    );
    this.record('dead-lettered', origin, { reason, detail: detail.slice(0, 200) });
  }

  private record(
    action: 'started' | 'duplicate' | 'skipped' | 'dead-lettered',
    origin: MessageOrigin,
    fields: Record<string, unknown>,
  ): void {
    const owner = typeof fields.owner === 'string' ? fields.owner : 'unknown';
    this.deps.metrics.events.inc({ action, owner });
    this.deps.logger.info({ action, ...origin, ...fields }, `event ${action}`);
  }
}
