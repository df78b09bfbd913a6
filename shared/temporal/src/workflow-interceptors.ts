/**
 * Workflow interceptors for sandbox routing. This module runs inside Temporal's workflow sandbox
 * (register it with `workflowModules`; `createRoutingWorker` does). It must not import Node modules.
 *
 * - The routing key comes from the start headers (`sd-routing-key`, else `_tracer-data`); a key that
 *   is present but refused is reported once (sink `sandboxRouting.keyRefused`).
 * - Every activity, local activity, child workflow, continue-as-new and outgoing signal gets the key, in
 *   our header and as baggage in `_tracer-data` (what Temporal's tracing interceptors read, in any SDK).
 * - **Other workloads** (DESIGN §9). Work aimed at the run's own queue, or its workload's shared queue,
 *   stays with the run's owner (the code that runs the workflow). An activity, child workflow or
 *   continue-as-new aimed at another queue asks the same local activity where it goes: the owner's queue
 *   of the workload that serves it, by the rules in force when it is scheduled, or the queue as written
 *   when no workload declares it. Recorded, so replays decide the same; runs recorded before this
 *   existed replay as they were (a patch marker).
 * - **First-task check.** A keyed workflow that no routing component placed (no `sd-routed` header)
 *   asks a local activity which queue owns its key (the answer is a marker in history, so replays
 *   decide the same way and a workflow never changes owner mid-flight). Routing must not change what
 *   the workflow's own code sees, so the workflow runs at once, from its first activation: handlers
 *   are registered, signals and updates are delivered, queries are answered, exactly as without
 *   routing. Only what would *leave* the run waits for the answer: its commands (activities, timers,
 *   children, update acceptances and results, its completion) are held back.
 *   - The owner is this queue: the held commands go out, in order, and the run carries on.
 *   - The owner is another queue: the held commands are dropped and the run continues-as-new there
 *     with the same id, input and headers. Every signal it received is forwarded, in arrival order,
 *     and delivered to the owner's run before anything else (a cancel request too). Updates it
 *     received were never answered, so the server retries them on the owner's run, which handles
 *     (or rejects) them itself. Queries were answered from the first run's state.
 *
 * With Temporal's OpenTelemetry interceptors in front (`tracingWorkerOptions`), the run's span gets
 * the routing attributes (key, owner, instance, decision), and every workflow log line the routing
 * key and owner (`getLogAttributes`). Neither touches commands: replays stay the same.
 */
import { type Span, trace } from '@opentelemetry/api';
import {
  ownerLabel,
  ownerOfTaskQueue,
  ROUTING_ATTRIBUTES,
  type RoutingSpanDecision,
  sharedQueueOf,
} from '@sandbox-routing/core/workflow';
import {
  type Payload,
  RawValue,
  rawValueTypeInfo,
  type SearchAttributePair,
  type TypedSearchAttributes,
} from '@temporalio/common';
import {
  type ActivateInput,
  type ActivityInput,
  AsyncLocalStorage,
  CancellationScope,
  type ConcludeActivationInput,
  type ConcludeActivationOutput,
  type ContinueAsNewInput,
  type GetLogAttributesInput,
  type LocalActivityInput,
  makeContinueAsNewFunc,
  type Next,
  patched,
  proxyLocalActivities,
  proxySinks,
  type QueryInput,
  type SignalInput,
  type SignalWorkflowInput,
  type Sinks,
  type StartChildWorkflowExecutionInput,
  type UpdateInput,
  upsertSearchAttributes,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
  workflowInfo,
} from '@temporalio/workflow';
import {
  RESOLVE_QUEUE_ACTIVITY,
  type ResolvedQueue,
  readRoutingDecision,
  withRoutingDecision,
} from './headers';
import {
  lookUpTemporalRoutingKey,
  withoutTracerDataKey,
  withRoutingKeyHeader,
  withTracerDataKey,
} from './key-headers';
import { type ForwardedSignal, packRedirect, unpackRedirect } from './redirect';
import { ROUTING_KEY_SEARCH_ATTRIBUTE, SANDBOX_SEARCH_ATTRIBUTE } from './search-attributes';

type Headers = Record<string, Payload>;
type Activation = ActivateInput['activation'];
type ActivationJob = NonNullable<Activation['jobs']>[number];
type Command = ConcludeActivationInput['commands'][number];
/** Where a call goes: `queue` to use (undefined: the call's default), `decided` the queue marked as chosen. */
type Placed = { queue: string | undefined; decided?: string };

/** The sink the interceptors report through (the worker side is wired by `routingWorkerOptions`). */
export interface RoutingSinks extends Sinks {
  sandboxRouting: {
    /** A start header named a routing key that is not one; the workflow runs without a key. */
    keyRefused(event: { carrier: string; reason: string }): void;
  };
}

/**
 * The key of the code currently running: a signal's own key inside its handler, else the workflow's.
 * Kept in AsyncLocalStorage, not a module variable: module state may be shared between workflows.
 */
const keyStorage = new AsyncLocalStorage<{ key: string | undefined }>();

/**
 * The routing key of the running workflow (inside a signal handler: the key the signal carried, if
 * any). Call it from workflow code.
 */
export function currentRoutingKey(): string | undefined {
  return keyStorage.getStore()?.key;
}

/** Patch id of routing work to other workloads: runs recorded before it replay without it. */
export const OTHER_WORKLOADS_PATCH = 'sandbox-routing/other-workloads';

const resolveQueue = () =>
  proxyLocalActivities<
    Record<typeof RESOLVE_QUEUE_ACTIVITY, (key: string, targetQueue?: string) => Promise<ResolvedQueue>>
  >({
    startToCloseTimeout: '10s',
    // The route table may be syncing or the routeserver briefly away: keep asking, gently. The
    // longest backoff stays far below the local retry threshold (1 min), so retries never need a
    // workflow timer (which would be held back like every other command while the check runs).
    retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
  })[RESOLVE_QUEUE_ACTIVITY];

/**
 * Where a run stands. `placed`: no check (no key, or a routing component chose its queue);
 * `deciding`: the check runs and commands are held; `stay` / `redirect`: the check answered.
 */
type Placement = 'placed' | 'deciding' | 'stay' | 'redirect';

/** Commands that leave the run while it is deciding: the check itself and query answers. */
function leavesWhileDeciding(command: Command): boolean {
  return (
    command.respondToQuery != null || command.scheduleLocalActivity?.activityType === RESOLVE_QUEUE_ACTIVITY
  );
}

/** `baseline` or the sandbox whose queue `taskQueue` is (a queue of no owner reads as itself). */
function ownerOfQueue(taskQueue: string): string {
  const owner = ownerOfTaskQueue(sharedQueueOf(taskQueue), taskQueue);
  return owner ? ownerLabel(owner) : taskQueue;
}

/** A job the SDK processes like one from the server (it reads `variant`, then that field). */
function signalJob(signal: ForwardedSignal): ActivationJob {
  const signalWorkflow = { signalName: signal.signalName, input: signal.input, headers: signal.headers };
  return { variant: 'signalWorkflow', signalWorkflow } as ActivationJob;
}

class SandboxRoutingInterceptor
  implements WorkflowInboundCallsInterceptor, WorkflowOutboundCallsInterceptor, WorkflowInternalsInterceptor
{
  private key: string | undefined;
  /** The start named a key that is not one: the run is keyless, and so is what it sends on. */
  private keyRefused = false;
  /** Whose work the run is (`ownerLabel`), once known: placed, or the check answered. For logs and spans. */
  private owner: string | undefined;
  private placement: Placement = 'placed';
  /** Seen the start yet? (Old histories may deliver signals in a batch before it.) */
  private started = false;
  private startHeaders: Headers = {};
  /** The run's own input payloads, exactly as they arrived. */
  private startInput: Payload[] = [];
  /** Signals received while deciding, in arrival order. */
  private readonly received: ForwardedSignal[] = [];
  private cancelRequested = false;
  /** Commands produced while deciding, in order. */
  private held: Command[] = [];
  /** Headers of the continue-as-new that redirects this run. */
  private redirectHeaders: Headers | undefined;

  activate(input: ActivateInput, next: Next<WorkflowInternalsInterceptor, 'activate'>): void {
    const jobs = input.activation.jobs ?? [];
    const initIndex = jobs.findIndex((job) => job.initializeWorkflow != null);
    const init = jobs[initIndex]?.initializeWorkflow;
    if (init) {
      this.startHeaders = (init.headers ?? {}) as Headers;
      const forwarded = unpackRedirect(this.startHeaders, (init.arguments ?? []) as Payload[]);
      if (forwarded) {
        // The owner's run of a redirect: the workflow gets its own arguments, and the forwarded
        // messages come first, as if they had arrived with the start. Same headers on every replay,
        // so the same jobs every time.
        init.arguments = forwarded.arguments;
        const extra = forwarded.signals.map(signalJob);
        if (forwarded.cancelRequested)
          extra.push({ variant: 'cancelWorkflow', cancelWorkflow: {} } as ActivationJob);
        jobs.splice(initIndex + 1, 0, ...extra);
      }
      this.startInput = [...((init.arguments ?? []) as Payload[])];
      const { match, refused } = lookUpTemporalRoutingKey(this.startHeaders);
      this.key = match?.key;
      // Sinks are not called on replay: one report per run.
      if (refused) proxySinks<RoutingSinks>().sandboxRouting.keyRefused(refused);
      this.keyRefused = refused !== undefined && this.key === undefined;
      this.placement =
        this.key && readRoutingDecision(this.startHeaders) === undefined ? 'deciding' : 'placed';
      this.started = true;
      if (this.placement !== 'deciding') this.received.length = 0;
    }
    if (this.placement === 'deciding' || !this.started) {
      for (const job of jobs) {
        const signal = job.signalWorkflow;
        if (signal?.signalName) {
          this.received.push({
            signalName: signal.signalName,
            input: (signal.input ?? []) as Payload[],
            headers: (signal.headers ?? {}) as Headers,
          });
        }
        if (job.cancelWorkflow) this.cancelRequested = true;
      }
    }
    next(input);
  }

  concludeActivation(
    input: ConcludeActivationInput,
    next: Next<WorkflowInternalsInterceptor, 'concludeActivation'>,
  ): ConcludeActivationOutput {
    const { commands } = next(input);
    switch (this.placement) {
      case 'deciding':
        this.held.push(...commands.filter((command) => !leavesWhileDeciding(command)));
        return { commands: commands.filter(leavesWhileDeciding) };
      case 'stay': {
        const released = [...this.held, ...commands];
        this.held = [];
        return { commands: released };
      }
      case 'redirect':
        // Nothing the first run did leaves it: no activity, no timer, no update answer (the server
        // retries unanswered updates on the owner's run). Only the continue-as-new, and queries.
        this.held = [];
        return {
          commands: commands.filter(
            (c) => c.continueAsNewWorkflowExecution != null || c.respondToQuery != null,
          ),
        };
      default:
        return { commands };
    }
  }

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    const run = () => keyStorage.run({ key: this.key }, () => next(input));
    const key = this.key;
    // The run's span (`RunWorkflow`), when Temporal's OpenTelemetry interceptors run outside this one.
    const span = trace.getActiveSpan();
    span?.setAttribute(ROUTING_ATTRIBUTES.instance, ownerOfQueue(workflowInfo().taskQueue));
    if (key !== undefined) span?.setAttribute(ROUTING_ATTRIBUTES.routingKey, key);
    if (this.placement !== 'deciding' || key === undefined) {
      const decided = key === undefined ? undefined : readRoutingDecision(this.startHeaders);
      if (decided !== undefined) this.decided(span, 'placed', ownerOfQueue(decided));
      return run();
    }
    const startSearchAttributes = workflowInfo().typedSearchAttributes;
    // Not cancellable: a cancel request is the workflow's business (and is forwarded on a redirect).
    const decision = CancellationScope.nonCancellable(() => resolveQueue()(key));
    const body = run();
    body.catch(() => undefined); // observed below, once the answer is in
    const resolved = await decision;
    if (resolved.ownedHere ?? resolved.ownerQueue === workflowInfo().taskQueue) {
      this.placement = 'stay';
      this.decided(span, 'stayed', resolved.owner);
      if (resolved.recordSearchAttributes) this.recordOwner(key, resolved.owner);
      return body;
    }
    this.placement = 'redirect';
    this.decided(span, 'redirected', resolved.owner);
    return this.redirect(key, resolved, startSearchAttributes);
  }

  private decided(span: Span | undefined, decision: RoutingSpanDecision, owner: string): void {
    this.owner = owner;
    span?.setAttributes({ [ROUTING_ATTRIBUTES.decision]: decision, [ROUTING_ATTRIBUTES.owner]: owner });
  }

  /** Workflow log lines (`log` from `@temporalio/workflow`) carry the routing key and, once known, the owner. */
  getLogAttributes(
    input: GetLogAttributesInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'getLogAttributes'>,
  ): Record<string, unknown> {
    if (this.key === undefined) return next(input);
    return next({
      routingKey: this.key,
      ...(this.owner === undefined ? {} : { owner: this.owner }),
      ...input,
    });
  }

  /** Upserts the routing search attributes, unless the starter already set these values. */
  private recordOwner(key: string, owner: string): void {
    const current = workflowInfo().typedSearchAttributes;
    if (current.get(ROUTING_KEY_SEARCH_ATTRIBUTE) === key && current.get(SANDBOX_SEARCH_ATTRIBUTE) === owner)
      return;
    upsertSearchAttributes([
      { key: ROUTING_KEY_SEARCH_ATTRIBUTE, value: key },
      { key: SANDBOX_SEARCH_ATTRIBUTE, value: owner },
    ]);
  }

  private redirect(key: string, resolved: ResolvedQueue, startSearchAttributes: TypedSearchAttributes) {
    const packed = packRedirect(this.startInput, this.received, this.cancelRequested);
    this.redirectHeaders = { ...this.startHeaders, ...packed.headers };
    const placement: SearchAttributePair[] = [
      { key: ROUTING_KEY_SEARCH_ATTRIBUTE, value: key },
      { key: SANDBOX_SEARCH_ATTRIBUTE, value: resolved.owner },
    ];
    // Without search attributes the continue-as-new keeps the run's own (the SDK core fills them in).
    const typedSearchAttributes = resolved.recordSearchAttributes
      ? startSearchAttributes.updateCopy(placement)
      : undefined;
    // Same id (continue-as-new keeps it), the input payloads byte for byte (RawValue bypasses the
    // payload converter; the codec still applies) and headers; the run on the owner's queue sees the
    // decision header and skips this check.
    return makeContinueAsNewFunc<(...args: RawValue[]) => Promise<never>>({
      taskQueue: resolved.ownerQueue,
      workflowType: workflowInfo().workflowType,
      typedSearchAttributes,
      typeInfo: { inputTypes: packed.input.map(() => rawValueTypeInfo) },
    })(...packed.input.map((payload) => RawValue.fromPayload(payload)));
  }

  handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>) {
    const signalKey = lookUpTemporalRoutingKey(input.headers).match?.key;
    if (signalKey !== undefined)
      trace.getActiveSpan()?.setAttribute(ROUTING_ATTRIBUTES.routingKey, signalKey);
    return keyStorage.run({ key: signalKey ?? this.key }, () => next(input));
  }

  handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>) {
    return keyStorage.run({ key: this.key }, () => next(input));
  }

  handleQuery(input: QueryInput, next: Next<WorkflowInboundCallsInterceptor, 'handleQuery'>) {
    return keyStorage.run({ key: this.key }, () => next(input));
  }

  /**
   * Adds the key (our header, and baggage in `_tracer-data`), and the decided queue when there is one.
   * The call's span (`StartActivity`, `ContinueAsNew`, … when tracing runs outside) gets the key too.
   */
  private stamp(headers: Headers, decidedQueue?: string): Headers {
    // A refused key must not reach downstream through Temporal's tracing header either.
    if (!this.key) return this.keyRefused ? (withoutTracerDataKey(headers) as Headers) : headers;
    trace.getActiveSpan()?.setAttribute(ROUTING_ATTRIBUTES.routingKey, this.key);
    const keyed = withTracerDataKey(withRoutingKeyHeader(headers, this.key), this.key);
    return decidedQueue ? withRoutingDecision(keyed, decidedQueue) : keyed;
  }

  /**
   * Where work the run aims at `target` goes (undefined: its own queue), when that is known without
   * asking: the run's own queue and its workload's shared queue are the run's owner's (the work stays
   * with the code that runs the workflow); without a key, or in a run recorded before other workloads
   * were routed, it goes where it was aimed. Undefined when the route check must answer. Synchronous on
   * purpose: a call that needs no check emits its command in the same microtask as without routing, so
   * the order of commands (and replays of runs recorded without it) is unchanged.
   */
  private placeNow(target: string | undefined, unrouted: Placed['decided']): Placed | undefined {
    const own = workflowInfo().taskQueue;
    if (target === undefined || target === own) return { queue: target, decided: own };
    if (target === sharedQueueOf(own)) return { queue: own, decided: own };
    if (!this.key || !patched(OTHER_WORKLOADS_PATCH)) return { queue: target, decided: unrouted };
    return undefined;
  }

  /** Another queue: the route check says which workload's owner (or as written, when undeclared). */
  private async placeByCheck(target: string, unrouted: Placed['decided']): Promise<Placed> {
    const key = this.key as string;
    const resolved = await CancellationScope.nonCancellable(() => resolveQueue()(key, target));
    return resolved.unrouted
      ? { queue: target, decided: unrouted }
      : { queue: resolved.ownerQueue, decided: resolved.ownerQueue };
  }

  /**
   * Calls `send` with the call placed: at once when no check is needed, else after the check. Work left
   * where it was aimed is marked with `unrouted` as its decided queue (activities and continue-as-new:
   * the queue itself, so a routing worker there does not second-guess it; children: none, so a child
   * on a routed queue still checks for itself).
   */
  private placed<T extends { options: { taskQueue?: string }; headers: Headers }, R>(
    input: T,
    send: (input: T) => Promise<R>,
    unrouted: 'mark' | 'leave',
  ): Promise<R> {
    const target = input.options.taskQueue;
    const mark = unrouted === 'mark' ? target : undefined;
    const withPlacement = ({ queue, decided }: Placed): T => ({
      ...input,
      options: queue === target ? input.options : { ...input.options, taskQueue: queue },
      headers: this.stamp(input.headers, decided),
    });
    const now = this.placeNow(target, mark);
    if (now) return send(withPlacement(now));
    return this.placeByCheck(target as string, mark).then((placed) => send(withPlacement(placed)));
  }

  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    return this.placed(input, next, 'mark');
  }

  scheduleLocalActivity(
    input: LocalActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
  ) {
    return next({ ...input, headers: this.stamp(input.headers, workflowInfo().taskQueue) });
  }

  /**
   * A child on its parent's queue (or its workload's shared queue) inherits the parent's placement; on
   * another workload's queue it is placed on that workload's owner; on an undeclared queue it is left
   * to check for itself.
   */
  startChildWorkflowExecution(
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ) {
    return this.placed(input, next, 'leave');
  }

  continueAsNew(input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>) {
    if (this.placement === 'redirect' && this.redirectHeaders) {
      // The redirect's own continue-as-new, onto the owner's queue it decided.
      const headers = { ...this.redirectHeaders, ...input.headers };
      return next({
        ...input,
        headers: this.stamp(headers, input.options.taskQueue ?? workflowInfo().taskQueue),
      });
    }
    return this.placed(input, next, 'mark');
  }

  signalWorkflow(input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>) {
    return next({ ...input, headers: this.stamp(input.headers) });
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const interceptor = new SandboxRoutingInterceptor();
  return { inbound: [interceptor], outbound: [interceptor], internals: [interceptor] };
};
