/**
 * In-memory state of the routeserver stand-in (a dev tool, not Signadot) and the pure derivation of
 * Signadot-style routing rules from it.
 */

/** Workload kinds a sandbox can fork. */
export type BaselineKind = 'Deployment' | 'ArgoRollout';

/** A baseline workload, as in the routeserver's `baseline` field. */
export interface Workload {
  kind: BaselineKind;
  namespace: string;
  name: string;
}

/** A sandbox: its routing key and the baseline workloads it forks. */
export interface SandboxSpec {
  routingKey: string;
  forks: Workload[];
}

/** A RouteGroup: its routing key and the names of its member sandboxes (which need not exist). */
export interface RouteGroupSpec {
  routingKey: string;
  sandboxes: string[];
}

/** Fault injection for the routing-rules API only (HTTP and gRPC); the admin API is never affected. */
export interface Behaviour {
  /** `omit` answers `{}` for no rules, as the real server (Go omitempty) does; `empty-array` answers `{"routingRules":[]}`. */
  emptyRoutingRules: 'omit' | 'empty-array';
  /** Delay before answering (HTTP, gRPC Get) and before a watch's SYNCED, in milliseconds. */
  delayMs: number;
  /** HTTP: `rules` is normal operation; the others simulate a broken server. */
  respondWith: 'rules' | 'malformed-json' | 'http-500';
  /** gRPC: `serve` is normal operation; `unimplemented` answers both RPCs as a server without the API would. */
  grpc: 'serve' | 'unimplemented';
}

/** One routing rule in the routeserver's HTTP JSON shape (`mappings` omitted: stand-in forks have no services). */
export interface RoutingRule {
  routingKey: string;
  baseline: Workload;
  destinationSandbox: { name: string };
}

/** Query filters of `GET /api/v1/workloads/routing-rules`; an absent or empty filter does not narrow. */
export interface RoutingRuleFilter {
  baselineKind?: string;
  baselineNamespace?: string;
  baselineName?: string;
  routingKey?: string;
  destinationSandboxName?: string;
}

/** Sandboxes and route groups by name: the initial-state file format and part of `GET /admin/state`. */
export interface InitialState {
  sandboxes?: Record<string, SandboxSpec>;
  routeGroups?: Record<string, RouteGroupSpec>;
}

/** Everything `GET /admin/state` returns. */
export interface StateSnapshot {
  sandboxes: Record<string, SandboxSpec>;
  routeGroups: Record<string, RouteGroupSpec>;
  behaviour: Behaviour;
}

/** Behaviour after start and after a reset. */
export const DEFAULT_BEHAVIOUR: Readonly<Behaviour> = Object.freeze({
  emptyRoutingRules: 'omit',
  delayMs: 0,
  respondWith: 'rules',
  grpc: 'serve',
});

/** Thrown when a routing key is already used by another sandbox or route group (HTTP 409). */
export class RoutingKeyConflictError extends Error {
  override readonly name = 'RoutingKeyConflictError';
}

/** Whether a put created a new entry or replaced an existing one. */
export type PutOutcome = 'created' | 'replaced';

const copySandbox = (s: SandboxSpec): SandboxSpec => ({
  routingKey: s.routingKey,
  forks: s.forks.map((f) => ({ kind: f.kind, namespace: f.namespace, name: f.name })),
});
const copyRouteGroup = (g: RouteGroupSpec): RouteGroupSpec => ({
  routingKey: g.routingKey,
  sandboxes: [...g.sandboxes],
});

/** Sorted copy of a map as a plain object, so snapshots are deterministic and not aliased. */
function toRecord<T>(map: ReadonlyMap<string, T>, copy: (v: T) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const name of [...map.keys()].sort()) out[name] = copy(map.get(name)!);
  return out;
}

/** Mutable stand-in state. Keeps routing keys unique across all sandboxes and route groups. */
export class RouteserverModel {
  private sandboxes = new Map<string, SandboxSpec>();
  private routeGroups = new Map<string, RouteGroupSpec>();
  private behaviour: Behaviour = { ...DEFAULT_BEHAVIOUR };
  private readonly listeners = new Set<() => void>();

  /** Calls `listener` after every change of sandboxes or route groups; returns the unsubscribe. */
  onRulesChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** Creates or replaces a sandbox. @throws RoutingKeyConflictError if another owner has the key. */
  putSandbox(name: string, spec: SandboxSpec): PutOutcome {
    return this.put(this.sandboxes, name, copySandbox(spec), { sandbox: name });
  }

  /** Removes a sandbox; route groups listing it keep the name and simply yield no rules for it. */
  deleteSandbox(name: string): boolean {
    return this.remove(this.sandboxes, name);
  }

  /** Creates or replaces a route group. @throws RoutingKeyConflictError if another owner has the key. */
  putRouteGroup(name: string, spec: RouteGroupSpec): PutOutcome {
    return this.put(this.routeGroups, name, copyRouteGroup(spec), { routeGroup: name });
  }

  /** Removes a route group. */
  deleteRouteGroup(name: string): boolean {
    return this.remove(this.routeGroups, name);
  }

  private put<Spec extends { routingKey: string }>(
    owners: Map<string, Spec>,
    name: string,
    spec: Spec,
    self: { sandbox?: string; routeGroup?: string },
  ): PutOutcome {
    this.assertKeyFree(spec.routingKey, self);
    const outcome = owners.has(name) ? 'replaced' : 'created';
    owners.set(name, spec);
    this.changed();
    return outcome;
  }

  private remove(owners: Map<string, unknown>, name: string): boolean {
    const deleted = owners.delete(name);
    if (deleted) this.changed();
    return deleted;
  }

  /** Merges a partial behaviour into the current one and returns the result. */
  setBehaviour(patch: Partial<Behaviour>): Behaviour {
    this.behaviour = { ...this.behaviour, ...patch };
    return { ...this.behaviour };
  }

  /** Current behaviour (a copy). */
  getBehaviour(): Behaviour {
    return { ...this.behaviour };
  }

  /** Empties all state and restores the default behaviour. */
  reset(): void {
    this.sandboxes.clear();
    this.routeGroups.clear();
    this.behaviour = { ...DEFAULT_BEHAVIOUR };
    this.changed();
  }

  /**
   * Replaces sandboxes and route groups with `state` (behaviour untouched). All or nothing.
   * @throws RoutingKeyConflictError if two entries share a routing key.
   */
  load(state: InitialState): void {
    const next = new RouteserverModel();
    for (const [name, spec] of Object.entries(state.sandboxes ?? {})) next.putSandbox(name, spec);
    for (const [name, spec] of Object.entries(state.routeGroups ?? {})) next.putRouteGroup(name, spec);
    this.sandboxes = next.sandboxes;
    this.routeGroups = next.routeGroups;
    this.changed();
  }

  /** A deep, sorted copy of the whole state. */
  snapshot(): StateSnapshot {
    return {
      sandboxes: toRecord(this.sandboxes, copySandbox),
      routeGroups: toRecord(this.routeGroups, copyRouteGroup),
      behaviour: this.getBehaviour(),
    };
  }

  /** The routing rules the current state yields, sorted. */
  rules(): RoutingRule[] {
    return deriveRoutingRules(this.sandboxes, this.routeGroups);
  }

  // A key shared by two owners would make a rule ambiguous; `self` may keep its own key on replace.
  private assertKeyFree(key: string, self: { sandbox?: string; routeGroup?: string }): void {
    for (const [name, s] of this.sandboxes) {
      if (name !== self.sandbox && s.routingKey === key) {
        throw new RoutingKeyConflictError(`routingKey "${key}" is already used by sandbox "${name}"`);
      }
    }
    for (const [name, g] of this.routeGroups) {
      if (name !== self.routeGroup && g.routingKey === key) {
        throw new RoutingKeyConflictError(`routingKey "${key}" is already used by route group "${name}"`);
      }
    }
  }
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Order: routingKey, destination sandbox, then baseline kind, namespace, name. */
function compareRules(a: RoutingRule, b: RoutingRule): number {
  return (
    compareStrings(a.routingKey, b.routingKey) ||
    compareStrings(a.destinationSandbox.name, b.destinationSandbox.name) ||
    compareStrings(a.baseline.kind, b.baseline.kind) ||
    compareStrings(a.baseline.namespace, b.baseline.namespace) ||
    compareStrings(a.baseline.name, b.baseline.name)
  );
}

/** Signadot identifies a rule by baseline workload and routing key (routes.proto, WatchWorkloadRoutingRules). */
export function ruleIdentity(rule: RoutingRule): string {
  const { kind, namespace, name } = rule.baseline;
  return JSON.stringify([kind, namespace, name, rule.routingKey]);
}

/**
 * Derives routing rules: one per fork of each sandbox under its own key, and one per fork of each
 * existing member of each route group under the group's key. A rule is identified by baseline and key,
 * so when two members of a group fork the same workload the first by name keeps the rule. Pure; the
 * result is sorted.
 */
export function deriveRoutingRules(
  sandboxes: ReadonlyMap<string, SandboxSpec>,
  routeGroups: ReadonlyMap<string, RouteGroupSpec>,
): RoutingRule[] {
  const rules: RoutingRule[] = [];
  const add = (routingKey: string, sandboxName: string, sandbox: SandboxSpec): void => {
    for (const f of sandbox.forks) {
      rules.push({
        routingKey,
        baseline: { kind: f.kind, namespace: f.namespace, name: f.name },
        destinationSandbox: { name: sandboxName },
      });
    }
  };
  for (const [name, sandbox] of sandboxes) add(sandbox.routingKey, name, sandbox);
  for (const group of routeGroups.values()) {
    for (const member of group.sandboxes) {
      const sandbox = sandboxes.get(member);
      if (sandbox) add(group.routingKey, member, sandbox);
    }
  }
  // Sorted by key, then sandbox name: the first rule of each identity is the one to keep.
  const seen = new Set<string>();
  return rules.sort(compareRules).filter((rule) => {
    const identity = ruleIdentity(rule);
    if (seen.has(identity)) return false;
    seen.add(identity);
    return true;
  });
}

/** Keeps the rules that match every non-empty filter exactly (grpc-gateway treats "" as unset). */
export function filterRoutingRules(rules: readonly RoutingRule[], filter: RoutingRuleFilter): RoutingRule[] {
  const checks: Array<[string | undefined, (r: RoutingRule) => string]> = [
    [filter.baselineKind, (r) => r.baseline.kind],
    [filter.baselineNamespace, (r) => r.baseline.namespace],
    [filter.baselineName, (r) => r.baseline.name],
    [filter.routingKey, (r) => r.routingKey],
    [filter.destinationSandboxName, (r) => r.destinationSandbox.name],
  ];
  const active = checks.filter(([want]) => want !== undefined && want !== '');
  return rules.filter((r) => active.every(([want, get]) => get(r) === want));
}
