/** One routing decision, reported to logs and metrics by whoever wires the interceptors. */
export interface RoutingDecisionEvent {
  /** Where it was made. */
  component: 'client' | 'workflow-redirect' | 'workflow-outbound' | 'workflow' | 'activity';
  /**
   * `start`: placed at the door; `redirect` / `stay`: checked on its first task; `place`: a workflow's
   * activity, child or continue-as-new aimed at another workload's queue, put on its owner's queue;
   * `owned` / `mismatch`: activity check; `key-refused`: a carrier named a routing key that is not one
   * (see `reason`).
   */
  action: 'start' | 'redirect' | 'stay' | 'place' | 'owned' | 'mismatch' | 'key-refused';
  /** For `place`: the workload (as the application names it) whose queue the work went to. */
  workload?: string;
  routingKey: string | undefined;
  /** `baseline` or the sandbox name (`ownerLabel`). */
  owner: string;
  taskQueue: string;
  workflowId?: string;
  activityType?: string;
  /** For `key-refused`: the carrier that named the key (`temporal-header`, `tracer-data`). */
  carrier?: string;
  /** For `key-refused`: why, bounded and log-safe. */
  reason?: string;
}

export type RoutingDecisionListener = (event: RoutingDecisionEvent) => void;

/** Failure type of an activity attempt the routing check refused (it did not run): readers skip it. */
export const ROUTE_MISMATCH_ERROR_TYPE = 'SandboxRouteMismatch';
