/**
 * Skip-and-retry, as the Signadot Python tutorial routes workflows (benchmark only, never used by the
 * services): every worker polls the shared queue, and a worker that picks a workflow task whose
 * routing key is not its own fails the task, so that Temporal hands it out again, hopefully to the
 * right worker. Runs in the workflow sandbox, which cannot ask the routeserver: the worker bakes the
 * keys it decides by into the bundle (module `skip-retry-policy`, see bench-worker.ts), a perfect
 * cache of the rules, which favours this approach if anything.
 *
 * The key is read from the workflow's `sd-routing-key` header and copied onto every activity it
 * schedules, so that the activity side can skip too.
 */
import { routingKeyFromTemporalHeaders } from '@sandbox-routing/temporal/workflow';
import type {
  ActivityInput,
  Next,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptorsFactory,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { ownsKey, type SkipRetryPolicy } from './policy';

// Resolved to a file the worker writes at start (webpack alias), holding this worker's policy.
const policy = require('skip-retry-policy') as SkipRetryPolicy;

/** Header name of the routing key (the dedicated one the client interceptor writes). */
const KEY_HEADER = 'sd-routing-key';

class SkipRetryInterceptor implements WorkflowInboundCallsInterceptor, WorkflowOutboundCallsInterceptor {
  private keyHeader: WorkflowExecuteInput['headers'][string] | undefined;

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    const key = routingKeyFromTemporalHeaders(input.headers)?.key;
    // A plain Error fails the workflow task (not the workflow): Temporal retries it, on any worker.
    if (!ownsKey(policy, key)) throw new Error(`skip: key ${key ?? '(none)'} is not ${policy.instance}'s`);
    this.keyHeader = input.headers[KEY_HEADER];
    return next(input);
  }

  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    return next(
      this.keyHeader ? { ...input, headers: { ...input.headers, [KEY_HEADER]: this.keyHeader } } : input,
    );
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const interceptor = new SkipRetryInterceptor();
  return { inbound: [interceptor], outbound: [interceptor] };
};
