/** A Kubernetes workload as Signadot names it: the baseline a routing rule applies to. */
export interface WorkloadRef {
  kind: string;
  namespace: string;
  name: string;
}

/** One routing rule as the routeserver returns it: key K, bound for `baseline`, goes to `destinationSandbox`. */
export interface RoutingRule {
  routingKey: string;
  baseline: WorkloadRef;
  destinationSandbox: { name: string };
}

/** Who owns a routing key for one baseline workload. */
export type Owner = { kind: 'baseline' } | { kind: 'sandbox'; sandboxName: string };

export const BASELINE_OWNER: Owner = Object.freeze({ kind: 'baseline' });

/** `baseline` or `sandbox:<name>`: a stable, log- and metric-friendly rendering of an owner. */
export function ownerLabel(owner: Owner): string {
  return owner.kind === 'baseline' ? 'baseline' : `sandbox:${owner.sandboxName}`;
}

export function sameWorkload(a: WorkloadRef, b: WorkloadRef): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}
