import { RESOLVE_QUEUE_ACTIVITY, routingKeyFromTemporalHeaders } from '@sandbox-routing/temporal';
import type { Context as ActivityContext } from '@temporalio/activity';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  InjectedSinks,
  Next,
  WorkerOptions,
} from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { TrailEmitter } from './emitter';
import { TRAIL_RECORD_VERSION, trailError } from './record';
import { TRAIL_SINK, type TrailSinks, type WorkflowCloseFields, type WorkflowTrailFields } from './sinks';

/**
 * Path of the trail's workflow interceptor module. `trailWorkerOptions` registers it; when you bundle
 * workflow code yourself, list it in `workflowInterceptorModules` before the routing module.
 */
export const TRAIL_WORKFLOW_INTERCEPTORS = require.resolve('./workflow-interceptors');

export interface TrailOptions {
  emitter: TrailEmitter;
  /** This worker's instance label: `baseline` or its sandbox name (`instanceLabel`). */
  instance: string;
  /** Its Temporal identity, e.g. `pr-101@host:1234`. */
  worker: string;
}

/** Remembers the event id of recent runs, so activity records of a run can carry it. */
class RecentRuns {
  private readonly eventIds = new Map<string, string>();
  constructor(private readonly limit = 10_000) {}
  set(runId: string, eventId: string | null): void {
    if (!eventId || this.eventIds.has(runId)) return;
    if (this.eventIds.size >= this.limit) {
      const oldest = this.eventIds.keys().next().value;
      if (oldest !== undefined) this.eventIds.delete(oldest);
    }
    this.eventIds.set(runId, eventId);
  }
  get(runId: string | undefined): string | null {
    return (runId && this.eventIds.get(runId)) || null;
  }
}

function string(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** The sink that turns the workflow interceptor's reports into records (main thread). */
function trailSinks(trail: TrailOptions, runs: RecentRuns): InjectedSinks<TrailSinks> {
  const base = (info: WorkflowInfo, fields: WorkflowTrailFields) => {
    runs.set(info.runId, fields.eventId);
    return {
      version: TRAIL_RECORD_VERSION,
      time: new Date().toISOString(),
      eventId: fields.eventId,
      routingKey: fields.routingKey,
      instance: trail.instance,
      workflowId: info.workflowId,
      runId: info.runId,
      workflowType: info.workflowType,
      taskQueue: info.taskQueue,
      worker: trail.worker,
    };
  };
  return {
    [TRAIL_SINK]: {
      // callDuringReplay: false (the default, spelt out): a rebuilt run does not report again.
      workflowStarted: {
        callDuringReplay: false,
        fn(info: WorkflowInfo, fields: WorkflowTrailFields) {
          trail.emitter.emit({
            ...base(info, fields),
            kind: 'workflow.started',
            ingestedBy: string(info.memo?.ingestedBy),
            eventTime: string(info.memo?.eventTime),
            continuedFromRunId: info.continuedFromExecutionRunId ?? null,
          });
        },
      },
      workflowClosed: {
        callDuringReplay: false,
        fn(info: WorkflowInfo, fields: WorkflowCloseFields) {
          trail.emitter.emit({
            ...base(info, fields),
            kind: fields.kind,
            durationMs: Math.max(0, Date.now() - info.runStartTime.getTime()),
            nextTaskQueue: fields.nextTaskQueue,
            error: fields.error,
          });
        },
      },
    },
  };
}

/** Records every activity attempt this worker runs: where, how long, and how it ended. */
function trailActivityInterceptors(trail: TrailOptions, runs: RecentRuns): ActivityInterceptorsFactory {
  return (ctx: ActivityContext) => ({
    inbound: {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
        const { info } = ctx;
        // The first-task redirect's route check is routing plumbing, not the workflow's work.
        if (info.activityType === RESOLVE_QUEUE_ACTIVITY) return next(input);
        const started = Date.now();
        const record = (error: unknown) => {
          const execution = info.workflowExecution;
          trail.emitter.emit({
            version: TRAIL_RECORD_VERSION,
            kind: error === undefined ? 'activity.completed' : 'activity.failed',
            time: new Date().toISOString(),
            eventId: runs.get(execution?.runId),
            routingKey: routingKeyFromTemporalHeaders(input.headers)?.key ?? null,
            instance: trail.instance,
            workflowId: execution?.workflowId ?? '',
            runId: execution?.runId ?? '',
            workflowType: info.workflowType ?? '',
            activityType: info.activityType,
            activityId: info.activityId,
            attempt: info.attempt,
            taskQueue: info.taskQueue,
            worker: trail.worker,
            startedAt: new Date(started).toISOString(),
            durationMs: Date.now() - started,
            error: error === undefined ? null : trailError(error),
          });
        };
        try {
          const result = await next(input);
          record(undefined);
          return result;
        } catch (error) {
          record(error);
          throw error;
        }
      },
    },
  });
}

/**
 * Worker options with the trail wired in: the workflow interceptor module (first, so it wraps the
 * routing interceptors), its sink, and the activity interceptor (first as well, so an attempt that
 * the routing check rejects is recorded too). Apply it before `routingWorkerOptions` /
 * `createRoutingWorker`:
 * ```ts
 * const worker = await createRoutingWorker(trailWorkerOptions({ connection, workflowsPath, activities }, trail), routing);
 * ```
 */
export function trailWorkerOptions<T extends Omit<WorkerOptions, 'taskQueue'>>(
  options: T,
  trail: TrailOptions,
): T {
  const runs = new RecentRuns();
  const interceptors = options.interceptors ?? {};
  return {
    ...options,
    sinks: { ...options.sinks, ...trailSinks(trail, runs) },
    interceptors: {
      ...interceptors,
      workflowModules: [TRAIL_WORKFLOW_INTERCEPTORS, ...(interceptors.workflowModules ?? [])],
      activity: [trailActivityInterceptors(trail, runs), ...(interceptors.activity ?? [])],
    },
  };
}
