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
 * How the baseline is written everywhere (logs, metrics labels, search attributes, workflow results,
 * trail records). Not reserved: a sandbox may legally be called `baseline` too; its label is then
 * `sandbox:baseline` (see {@link ownerLabel}).
 */
export const BASELINE_LABEL = 'baseline';

/**
 * Prefix of a sandbox's label when its bare name would read as something else (the sandbox named
 * `baseline`). Sandbox names never contain `:`, so a prefixed label never collides with a bare one.
 */
export const SANDBOX_LABEL_PREFIX = 'sandbox:';

/** Signadot sandbox names: a letter, then letters, digits and dashes, at most 30 bytes. */
export const SANDBOX_NAME = /^(?=.{1,30}$)[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

/** True for a name Signadot accepts for a sandbox (`baseline` included). */
export function isSandboxName(value: string): boolean {
  return SANDBOX_NAME.test(value);
}

/** The owner a sandbox name stands for; `''` (no sandbox) is the baseline. */
export function ownerOfSandboxName(sandboxName: string): Owner {
  return sandboxName ? { kind: 'sandbox', sandboxName } : BASELINE_OWNER;
}

/**
 * The one spelling of an owner, injective: `baseline` for the baseline; a sandbox's name, except that
 * a sandbox named `baseline` is written `sandbox:baseline`.
 */
export function ownerLabel(owner: Owner): string {
  if (owner.kind === 'baseline') return BASELINE_LABEL;
  return owner.sandboxName === BASELINE_LABEL
    ? `${SANDBOX_LABEL_PREFIX}${owner.sandboxName}`
    : owner.sandboxName;
}

/** The label of the instance whose `SIGNADOT_SANDBOX_NAME` is `sandboxName` (`''` on the baseline). */
export function instanceLabel(sandboxName: string): string {
  return ownerLabel(ownerOfSandboxName(sandboxName));
}

/**
 * Inverse of {@link ownerLabel}: `baseline`, a sandbox name, or `sandbox:<name>` (accepted for any
 * sandbox); undefined for anything else.
 */
export function ownerFromLabel(label: string): Owner | undefined {
  if (label === BASELINE_LABEL) return BASELINE_OWNER;
  const name = label.startsWith(SANDBOX_LABEL_PREFIX) ? label.slice(SANDBOX_LABEL_PREFIX.length) : label;
  return isSandboxName(name) ? { kind: 'sandbox', sandboxName: name } : undefined;
}

/** True when two owners are the same (the baseline, or the same sandbox). */
export function sameOwner(a: Owner, b: Owner): boolean {
  return a.kind === 'baseline'
    ? b.kind === 'baseline'
    : b.kind === 'sandbox' && a.sandboxName === b.sandboxName;
}

export function sameWorkload(a: WorkloadRef, b: WorkloadRef): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}
