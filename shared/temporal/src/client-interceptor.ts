import { trace } from '@opentelemetry/api';
import type {
  Application,
  ApplicationRoutes,
  Owner,
  RoutingDecisionListener,
  WorkloadRef,
  WorkloadRoutes,
} from '@sandbox-routing/core';
import {
  currentCarriedDecision,
  currentRoutingKey,
  decidedOwnerOf,
  ownerLabel,
  ROUTING_ATTRIBUTES,
  taskQueueOf,
} from '@sandbox-routing/core';
import type {
  WorkflowClientInterceptor,
  WorkflowSignalInput,
  WorkflowSignalWithStartInput,
  WorkflowStartInput,
  WorkflowStartUpdateWithStartInput,
} from '@temporalio/client';
import { type Payload, type SearchAttributePair, TypedSearchAttributes } from '@temporalio/common';
import { withRoutingDecision } from './headers';
import { routingKeyFromTemporalHeaders, withRoutingKeyHeader } from './key-headers';
import { ROUTING_KEY_SEARCH_ATTRIBUTE, SANDBOX_SEARCH_ATTRIBUTE } from './search-attributes';

export interface RoutingClientInterceptorOptions {
  /**
   * Where the key of a call comes from. Default: `runWithRoutingKey`, else the active OpenTelemetry
   * baggage, else an `sd-routing-key` header already on the call.
   */
  routingKey?: () => string | undefined;
  /**
   * Door routing: start each workflow aimed at a routed shared queue directly on the queue of its key's
   * owner. Either one queue, `sharedQueue`, with the route table of the workload that serves it (the
   * *worker's* baseline workload), or a whole `application`: every shared queue it declares, with the
   * routes of all its workloads.
   */
  doorRouting?:
    | { routeTable: WorkloadRoutes; sharedQueue: string }
    | { application: Application; routes: Pick<ApplicationRoutes, 'forWorkload'> };
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
    const door = this.doorFor(options.taskQueue);
    if (door) {
      // A decision carried with the work (its key matching) is binding: decided once, never again.
      const carried = currentCarriedDecision();
      const decided = carried?.routingKey === key ? decidedOwnerOf(carried, door.workload) : undefined;
      // Throws RouteTableNotSyncedError (retriable) rather than guess before the first sync.
      const resolved: Owner = decided ?? (await door.routes.ownerOf(key));
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

  /** The routes that place a start aimed at `taskQueue`, when door routing covers that queue. */
  private doorFor(
    taskQueue: string,
  ): { sharedQueue: string; workload: WorkloadRef; routes: WorkloadRoutes } | undefined {
    const door = this.options.doorRouting;
    if (!door) return undefined;
    if ('sharedQueue' in door) {
      return taskQueue === door.sharedQueue
        ? { sharedQueue: taskQueue, workload: door.routeTable.baseline, routes: door.routeTable }
        : undefined;
    }
    const declared = door.application.queue(taskQueue);
    // A sandbox's queue written out in full is a placement already: left alone.
    if (declared?.owner.kind !== 'baseline') return undefined;
    const workload = declared.workload.baseline;
    return { sharedQueue: taskQueue, workload, routes: door.routes.forWorkload(workload) };
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
