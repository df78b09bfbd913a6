import { trace } from '@opentelemetry/api';
import type {
  WorkflowClientInterceptor,
  WorkflowSignalInput,
  WorkflowSignalWithStartInput,
  WorkflowStartInput,
  WorkflowStartUpdateWithStartInput,
} from '@temporalio/client';
import { type Payload, type SearchAttributePair, TypedSearchAttributes } from '@temporalio/common';
import type { RouteTable } from '../routes';
import { ownerLabel, taskQueueOf } from '../routes';
import { routingKeyFromTemporalHeaders, withRoutingKeyHeader } from '../routing-key';
import type { RoutingDecisionListener } from './decisions';
import { withRoutingDecision } from './headers';
import { currentRoutingKey } from './routing-context';
import { ROUTING_KEY_SEARCH_ATTRIBUTE, SANDBOX_SEARCH_ATTRIBUTE } from './search-attributes';
import { ROUTING_ATTRIBUTES } from './span-attributes';

export interface RoutingClientInterceptorOptions {
  /**
   * Where the key of a call comes from. Default: `runWithRoutingKey`, else the active OpenTelemetry
   * baggage, else an `sd-routing-key` header already on the call.
   */
  routingKey?: () => string | undefined;
  /**
   * Door routing: start each workflow aimed at `sharedQueue` directly on the queue of its key's owner,
   * as told by the route table of the *worker's* baseline workload.
   */
  doorRouting?: { routeTable: RouteTable; sharedQueue: string };
  /** Record `SignadotRoutingKey` / `SignadotSandbox` search attributes on started workflows. */
  recordSearchAttributes?: boolean;
  onDecision?: RoutingDecisionListener;
}

type Headers = Record<string, Payload>;
type StartOptions = WorkflowStartInput['options'];

/**
 * Client-side routing: puts the routing key into the `sd-routing-key` header of every workflow start,
 * signal-with-start, update-with-start and signal, and (with `doorRouting`) starts each workflow on
 * its owner's task queue, marking it as placed so the worker does not check again.
 */
export class RoutingClientInterceptor implements WorkflowClientInterceptor {
  constructor(private readonly options: RoutingClientInterceptorOptions = {}) {}

  private keyFor(headers: Headers): string | undefined {
    return (this.options.routingKey ?? currentRoutingKey)() ?? routingKeyFromTemporalHeaders(headers)?.key;
  }

  private async place(
    headers: Headers,
    options: StartOptions,
  ): Promise<{ headers: Headers; options: StartOptions }> {
    const key = this.keyFor(headers);
    if (!key) return { headers, options };
    // The start's span (`StartWorkflow`), when Temporal's OpenTelemetry interceptor runs outside this one.
    const span = trace.getActiveSpan();
    span?.setAttribute(ROUTING_ATTRIBUTES.routingKey, key);
    let placedHeaders = withRoutingKeyHeader(headers, key);
    let taskQueue = options.taskQueue;
    let owner: string | undefined;
    const door = this.options.doorRouting;
    if (door && options.taskQueue === door.sharedQueue) {
      // Throws RouteTableNotSyncedError (retriable) rather than guess before the first sync.
      const resolved = await door.routeTable.ownerOf(key);
      owner = ownerLabel(resolved);
      taskQueue = taskQueueOf(door.sharedQueue, resolved);
      placedHeaders = withRoutingDecision(placedHeaders, taskQueue);
      span?.setAttributes({
        [ROUTING_ATTRIBUTES.owner]: owner,
        [ROUTING_ATTRIBUTES.decision]: 'door-routed',
      });
      this.options.onDecision?.({
        component: 'client',
        action: 'start',
        routingKey: key,
        owner,
        taskQueue,
        workflowId: options.workflowId,
      });
    }
    let typedSearchAttributes = options.typedSearchAttributes;
    if (this.options.recordSearchAttributes) {
      const pairs: SearchAttributePair[] = [{ key: ROUTING_KEY_SEARCH_ATTRIBUTE, value: key }];
      if (owner) pairs.push({ key: SANDBOX_SEARCH_ATTRIBUTE, value: owner });
      typedSearchAttributes =
        typedSearchAttributes instanceof TypedSearchAttributes
          ? typedSearchAttributes.updateCopy(pairs)
          : [...(typedSearchAttributes ?? []), ...pairs];
    }
    return { headers: placedHeaders, options: { ...options, taskQueue, typedSearchAttributes } };
  }

  async startWithDetails(
    input: WorkflowStartInput,
    next: Parameters<Required<WorkflowClientInterceptor>['startWithDetails']>[1],
  ) {
    const placed = await this.place(input.headers, input.options);
    return next({ ...input, ...placed });
  }

  async signalWithStart(
    input: WorkflowSignalWithStartInput,
    next: Parameters<Required<WorkflowClientInterceptor>['signalWithStart']>[1],
  ) {
    const placed = await this.place(input.headers, input.options);
    return next({ ...input, ...placed });
  }

  async startUpdateWithStart(
    input: WorkflowStartUpdateWithStartInput,
    next: Parameters<Required<WorkflowClientInterceptor>['startUpdateWithStart']>[1],
  ) {
    const placed = await this.place(input.workflowStartHeaders, input.workflowStartOptions);
    const key = this.keyFor(input.updateHeaders) ?? routingKeyFromTemporalHeaders(placed.headers)?.key;
    return next({
      ...input,
      workflowStartHeaders: placed.headers,
      workflowStartOptions: placed.options,
      updateHeaders: key ? withRoutingKeyHeader(input.updateHeaders, key) : input.updateHeaders,
    });
  }

  async signal(
    input: WorkflowSignalInput,
    next: Parameters<Required<WorkflowClientInterceptor>['signal']>[1],
  ) {
    const key = this.keyFor(input.headers);
    return next(key ? { ...input, headers: withRoutingKeyHeader(input.headers, key) } : input);
  }
}
