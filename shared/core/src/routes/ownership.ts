import { RouteTableNotSyncedError } from './errors';
import type { WorkloadRoutes } from './table';
import { BASELINE_OWNER, type Owner, ownerOfSandboxName, type WorkloadRef } from './types';

/** What a decision does before the route table's first sync (see {@link effectiveNeverSyncedPolicy}). */
export type NeverSyncedPolicy = 'wait' | 'own-nothing' | 'assume-no-rules';

/** Who this running instance is: its baseline workload, and its sandbox when it is a fork. */
export interface InstanceIdentity {
  baseline: WorkloadRef;
  /** Empty for the baseline; the sandbox name (`SIGNADOT_SANDBOX_NAME`) in a fork. */
  sandboxName: string;
}

/** The owner an instance stands for: the baseline, or its sandbox. */
export function instanceOwner(identity: InstanceIdentity): Owner {
  return ownerOfSandboxName(identity.sandboxName);
}

/** True when `owner` is this instance. */
export function isOwnedBy(owner: Owner, identity: InstanceIdentity): boolean {
  return owner.kind === 'baseline' ? !identity.sandboxName : owner.sandboxName === identity.sandboxName;
}

/** The outcome of an ownership check, with what a log line or a metric needs. */
export interface OwnershipDecision {
  owned: boolean;
  /** The key's owner; undefined when the table never synced and policy decided without it. */
  owner: Owner | undefined;
  reason: 'no-key' | 'rule' | 'no-rule' | 'never-synced';
}

/** Resolves `'default'`: the baseline waits, a sandbox owns nothing until the first sync. */
export function effectiveNeverSyncedPolicy(
  policy: NeverSyncedPolicy | 'default',
  identity: InstanceIdentity,
): NeverSyncedPolicy {
  if (policy !== 'default') return policy;
  return identity.sandboxName ? 'own-nothing' : 'wait';
}

/**
 * Decides whether `identity` owns work carrying `key`, as Signadot documents for message queues: the baseline owns a key that is
 * empty or that no rule maps to a sandbox for its baseline workload; a sandbox owns a key only when a
 * rule maps it to that sandbox (RouteGroup keys included).
 * @throws RouteTableNotSyncedError when the table never synced and the policy is `wait`
 */
export async function decideOwnership(
  table: WorkloadRoutes,
  identity: InstanceIdentity,
  key: string | undefined,
  neverSyncedPolicy: NeverSyncedPolicy | 'default' = 'default',
): Promise<OwnershipDecision> {
  if (!key) return { owned: !identity.sandboxName, owner: BASELINE_OWNER, reason: 'no-key' };
  let owner: Owner;
  try {
    owner = await table.ownerOf(key);
  } catch (error) {
    if (!(error instanceof RouteTableNotSyncedError)) throw error;
    switch (effectiveNeverSyncedPolicy(neverSyncedPolicy, identity)) {
      case 'wait':
        throw error;
      case 'own-nothing':
        return { owned: false, owner: undefined, reason: 'never-synced' };
      case 'assume-no-rules':
        return { owned: !identity.sandboxName, owner: BASELINE_OWNER, reason: 'never-synced' };
    }
  }
  return { owned: isOwnedBy(owner, identity), owner, reason: owner.kind === 'sandbox' ? 'rule' : 'no-rule' };
}

/**
 * The task queue a sandboxed worker polls: a pure function of the shared queue and the sandbox name,
 * defined once here. Sandbox names are `[a-zA-Z0-9-]`, so `@` cannot occur in them.
 */
export function sandboxTaskQueue(sharedQueue: string, sandboxName: string): string {
  return `${sharedQueue}@${sandboxName}`;
}

/** The queue work owned by `owner` belongs on. */
export function taskQueueOf(sharedQueue: string, owner: Owner): string {
  return owner.kind === 'baseline' ? sharedQueue : sandboxTaskQueue(sharedQueue, owner.sandboxName);
}

/** The shared queue a task queue derives from: itself for the shared queue, the part before `@` for a sandbox's. */
export function sharedQueueOf(taskQueue: string): string {
  const at = taskQueue.indexOf('@');
  return at === -1 ? taskQueue : taskQueue.slice(0, at);
}

/** The owner a task queue stands for (inverse of `taskQueueOf`); undefined for an unrelated queue. */
export function ownerOfTaskQueue(sharedQueue: string, taskQueue: string): Owner | undefined {
  if (taskQueue === sharedQueue) return BASELINE_OWNER;
  const prefix = `${sharedQueue}@`;
  return taskQueue.startsWith(prefix) && taskQueue.length > prefix.length
    ? { kind: 'sandbox', sandboxName: taskQueue.slice(prefix.length) }
    : undefined;
}

/** The queue this instance's worker polls. */
export function instanceTaskQueue(sharedQueue: string, identity: InstanceIdentity): string {
  return taskQueueOf(sharedQueue, instanceOwner(identity));
}
