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

/**
 * How an owner is written everywhere (logs, metrics labels, search attributes, workflow results,
 * result records): `baseline`, or the sandbox's name. Reserved: no sandbox may be called this.
 */
export const BASELINE_LABEL = 'baseline';

/** Signadot sandbox names: a letter, then letters, digits and dashes, at most 30 bytes. */
export const SANDBOX_NAME = /^(?=.{1,30}$)[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

/** True for a name Signadot accepts for a sandbox, other than the reserved {@link BASELINE_LABEL}. */
export function isSandboxName(value: string): boolean {
  return SANDBOX_NAME.test(value) && value !== BASELINE_LABEL;
}

/** The owner a sandbox name stands for; `''` (no sandbox) is the baseline. */
export function ownerOfSandboxName(sandboxName: string): Owner {
  return sandboxName ? { kind: 'sandbox', sandboxName } : BASELINE_OWNER;
}

/** The one spelling of an owner: `baseline`, or the sandbox name. */
export function ownerLabel(owner: Owner): string {
  return owner.kind === 'baseline' ? BASELINE_LABEL : owner.sandboxName;
}

/** The label of the instance whose `SIGNADOT_SANDBOX_NAME` is `sandboxName` (`''` on the baseline). */
export function instanceLabel(sandboxName: string): string {
  return sandboxName || BASELINE_LABEL;
}

/** Inverse of {@link ownerLabel}; undefined for a string that is neither `baseline` nor a sandbox name. */
export function ownerFromLabel(label: string): Owner | undefined {
  if (label === BASELINE_LABEL) return BASELINE_OWNER;
  return isSandboxName(label) ? { kind: 'sandbox', sandboxName: label } : undefined;
}

export function sameWorkload(a: WorkloadRef, b: WorkloadRef): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}
