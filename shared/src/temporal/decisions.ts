/** One routing decision, reported to logs and metrics by whoever wires the interceptors. */
export interface RoutingDecisionEvent {
  /** Where it was made. */
  component: 'client' | 'workflow-redirect' | 'activity';
  /** `start`: placed at the door; `redirect`: moved on its first task; `owned` / `mismatch`: activity check. */
  action: 'start' | 'redirect' | 'stay' | 'owned' | 'mismatch';
  routingKey: string | undefined;
  /** `baseline` or the sandbox name (`ownerLabel`). */
  owner: string;
  taskQueue: string;
  workflowId?: string;
  activityType?: string;
}

export type RoutingDecisionListener = (event: RoutingDecisionEvent) => void;
