import {
  BASELINE_LABEL,
  ownerLabel,
  type RoutingRule,
  type RoutingRulesSource,
  type WorkloadRef,
} from '@sandbox-routing/core';
import type { WireOwner } from './page/wire';

/** Something the console can send to (the page's own type, where each field is described). */
export type ConsoleOwner = WireOwner;

export interface OwnerListStatus {
  /** True once a routeserver answer was read. */
  synced: boolean;
  /** The last refresh's error (the previous list is kept meanwhile), or null. */
  error: string | null;
  updatedAt: string | null;
}

/** The extras the local stand-in serves at `GET /admin/state`; Signadot's routeserver has none. */
interface StandInState {
  sandboxes: Record<string, { routingKey: string }>;
  routeGroups: Record<string, { routingKey: string; sandboxes: string[] }>;
}

const BASELINE: ConsoleOwner = {
  id: BASELINE_LABEL,
  label: BASELINE_LABEL,
  kind: 'baseline',
  routingKey: null,
  workerOwner: BASELINE_LABEL,
  ingressOwner: BASELINE_LABEL,
  members: [],
};

/** Longest name shown; routeserver values are shown as given (as text), but bounded. */
const MAX_NAME = 200;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseStandInState(body: unknown): StandInState | undefined {
  if (!isRecord(body) || !isRecord(body.sandboxes) || !isRecord(body.routeGroups)) return undefined;
  const sandboxes: StandInState['sandboxes'] = {};
  for (const [name, spec] of Object.entries(body.sandboxes)) {
    if (isRecord(spec) && typeof spec.routingKey === 'string')
      sandboxes[name] = { routingKey: spec.routingKey };
  }
  const routeGroups: StandInState['routeGroups'] = {};
  for (const [name, spec] of Object.entries(body.routeGroups)) {
    if (isRecord(spec) && typeof spec.routingKey === 'string' && Array.isArray(spec.sandboxes)) {
      routeGroups[name] = {
        routingKey: spec.routingKey,
        sandboxes: spec.sandboxes.filter((s): s is string => typeof s === 'string'),
      };
    }
  }
  return { sandboxes, routeGroups };
}

/** A sandbox as owners are spelled (`ownerLabel`: `sandbox:baseline` for a sandbox of that name), bounded. */
function sandboxLabel(name: string): string {
  return ownerLabel({ kind: 'sandbox', sandboxName: name.slice(0, MAX_NAME) });
}

/** The sandbox a key goes to for one baseline: several rules (a RouteGroup over two forks) → first by name. */
function ownerByKey(rules: readonly RoutingRule[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const rule of [...rules].sort((a, b) =>
    a.destinationSandbox.name.localeCompare(b.destinationSandbox.name),
  )) {
    if (!owners.has(rule.routingKey)) owners.set(rule.routingKey, sandboxLabel(rule.destinationSandbox.name));
  }
  return owners;
}

/**
 * The owners to offer, from the routing rules of the worker's and the ingress's baseline workloads:
 * the baseline first, then one entry per routing key, by label. Names come from the stand-in's admin
 * state when there is one.
 */
export function ownersFrom(
  workerRules: readonly RoutingRule[],
  ingressRules: readonly RoutingRule[],
  standIn: StandInState | undefined,
): ConsoleOwner[] {
  const worker = ownerByKey(workerRules);
  const ingress = ownerByKey(ingressRules);
  const named = new Map<string, Pick<ConsoleOwner, 'label' | 'kind' | 'members'>>();
  for (const [name, spec] of Object.entries(standIn?.sandboxes ?? {})) {
    named.set(spec.routingKey, { label: sandboxLabel(name), kind: 'sandbox', members: [] });
  }
  for (const [name, spec] of Object.entries(standIn?.routeGroups ?? {})) {
    named.set(spec.routingKey, {
      label: name.slice(0, MAX_NAME),
      kind: 'routegroup',
      members: spec.sandboxes.map(sandboxLabel),
    });
  }
  const keyed = [...new Set([...worker.keys(), ...ingress.keys()])].map((routingKey): ConsoleOwner => {
    const workerOwner = worker.get(routingKey) ?? BASELINE_LABEL;
    const ingressOwner = ingress.get(routingKey) ?? BASELINE_LABEL;
    const name = named.get(routingKey) ?? {
      label: workerOwner === BASELINE_LABEL ? ingressOwner : workerOwner,
      kind: 'key' as const,
      members: [],
    };
    return { id: `key:${routingKey}`, routingKey, workerOwner, ingressOwner, ...name };
  });
  keyed.sort(
    (a, b) => a.label.localeCompare(b.label) || (a.routingKey ?? '').localeCompare(b.routingKey ?? ''),
  );
  return [BASELINE, ...keyed];
}

export interface OwnerDirectoryOptions {
  rules: RoutingRulesSource;
  /** Base URL of the routeserver, for the stand-in's `/admin/state` (absent on Signadot's: skipped). */
  routeserverUrl: string;
  requestTimeoutMs: number;
  refreshIntervalMs: number;
  workerBaseline: WorkloadRef;
  ingressBaseline: WorkloadRef;
  onError?(message: string): void;
}

/**
 * The list of owners, refreshed from the routeserver every `refreshIntervalMs`. Keeps the last good
 * list when the routeserver fails, and tells listeners when the list changes.
 */
export class OwnerDirectory {
  private list: ConsoleOwner[] = [BASELINE];
  private state: OwnerListStatus = { synced: false, error: null, updatedAt: null };
  private readonly listeners = new Set<(owners: ConsoleOwner[], status: OwnerListStatus) => void>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly options: OwnerDirectoryOptions) {}

  /** Refreshes once (awaited), then on the interval. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  owners(): ConsoleOwner[] {
    return this.list;
  }

  status(): OwnerListStatus {
    return { ...this.state };
  }

  byId(id: string): ConsoleOwner | undefined {
    return this.list.find((owner) => owner.id === id);
  }

  /** The owners of a key by the current rules (an unknown or absent key: the baseline). */
  expectedFor(routingKey: string | null): { worker: string; ingress: string } {
    const owner = routingKey ? this.list.find((o) => o.routingKey === routingKey) : undefined;
    return { worker: owner?.workerOwner ?? BASELINE_LABEL, ingress: owner?.ingressOwner ?? BASELINE_LABEL };
  }

  onChange(listener: (owners: ConsoleOwner[], status: OwnerListStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One refresh (concurrent calls share it). */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const { rules, workerBaseline, ingressBaseline } = this.options;
    const filter = (baseline: WorkloadRef) => ({
      baselineKind: baseline.kind,
      baselineNamespace: baseline.namespace,
      baselineName: baseline.name,
    });
    let next: ConsoleOwner[];
    try {
      const [workerRules, ingressRules, standIn] = await Promise.all([
        rules.getRoutingRules(filter(workerBaseline)),
        rules.getRoutingRules(filter(ingressBaseline)),
        this.standInState(),
      ]);
      next = ownersFrom(workerRules, ingressRules, standIn);
    } catch (error) {
      const message = (error as Error).message;
      const changed = this.state.error !== message;
      this.state = { ...this.state, error: message };
      if (changed) {
        this.options.onError?.(message);
        this.notify();
      }
      return;
    }
    const changed = JSON.stringify(next) !== JSON.stringify(this.list) || this.state.error !== null;
    this.list = next;
    this.state = { synced: true, error: null, updatedAt: new Date().toISOString() };
    if (changed) this.notify();
  }

  private async standInState(): Promise<StandInState | undefined> {
    try {
      const response = await fetch(`${this.options.routeserverUrl.replace(/\/+$/, '')}/admin/state`, {
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        headers: { accept: 'application/json' },
      });
      if (!response.ok) {
        await response.body?.cancel();
        return undefined;
      }
      return parseStandInState(await response.json());
    } catch {
      return undefined; // Signadot's routeserver: no admin API, names come from the rules alone
    }
  }

  private notify(): void {
    for (const listener of this.listeners) listener(this.list, this.status());
  }
}
