/** One routing decision, reported to logs and metrics by whoever wires the interceptors. */
export interface RoutingDecisionEvent {
  /** Where it was made. */
  component: 'client' | 'workflow-redirect' | 'workflow' | 'activity';
  /**
   * `start`: placed at the door; `redirect` / `stay`: checked on its first task; `owned` / `mismatch`:
   * activity check; `key-refused`: a carrier named a routing key that is not one (see `reason`).
   */
  action: 'start' | 'redirect' | 'stay' | 'owned' | 'mismatch' | 'key-refused';
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
