import { BASELINE_LABEL, ownerLabel } from '@sandbox-routing/core';
import type { ConsoleOwner } from '../console/owners';

/** Who a load run sends to: the baseline (no key), a sandbox (its key), or a routing key as given. */
export interface LoadOwner {
  /**
   * How the report and `{owner:…}` thresholds name it: `baseline`, the sandbox's label (its name, or
   * `sandbox:baseline` for a sandbox named so), or `key:<routing key>` for `--routing-key`.
   */
  name: string;
  routingKey: string | null;
  /** Who should run its work, by the routing rules when the run started. */
  expected: { worker: string; ingress: string };
}

/** What the command line asked for. */
export interface OwnerRequest {
  baseline: boolean;
  sandboxes: readonly string[];
  routingKeys: readonly string[];
}

/** A `--sandbox` or `--routing-key` the routing rules cannot resolve; the CLI exits with 2. */
export class OwnerResolutionError extends Error {
  override readonly name = 'OwnerResolutionError';
}

export const BASELINE_LOAD_OWNER: LoadOwner = {
  name: BASELINE_LABEL,
  routingKey: null,
  expected: { worker: BASELINE_LABEL, ingress: BASELINE_LABEL },
};

/** Whether the request needs the routeserver's rules (anything but the baseline does). */
export function needsRoutingRules(request: OwnerRequest): boolean {
  return request.sandboxes.length > 0 || request.routingKeys.length > 0;
}

function describe(owners: readonly ConsoleOwner[]): string {
  const keyed = owners.filter((o) => o.routingKey !== null);
  if (keyed.length === 0) return 'the routeserver has no routing rules for these workloads';
  return `the routeserver knows ${keyed.map((o) => `${o.label} (${o.routingKey})`).join(', ')}`;
}

/**
 * The sandbox's own routing key. With the local stand-in the owner list says which keys are
 * sandboxes; Signadot's routeserver serves rules only, so there a sandbox is found by the
 * destination of its rules, and a sandbox that is also reached through a RouteGroup has two keys:
 * then `--routing-key` picks one.
 */
function sandboxOwner(name: string, owners: readonly ConsoleOwner[]): ConsoleOwner {
  const label = ownerLabel({ kind: 'sandbox', sandboxName: name });
  const named = owners.filter((o) => o.kind === 'sandbox' && o.label === label);
  if (named.length === 1) return named[0] as ConsoleOwner;
  const byRule = owners.filter(
    (o) => o.kind === 'key' && (o.workerOwner === label || o.ingressOwner === label),
  );
  if (byRule.length === 1) return byRule[0] as ConsoleOwner;
  if (byRule.length > 1) {
    throw new OwnerResolutionError(
      `--sandbox ${name}: several routing keys lead to it (${byRule.map((o) => o.routingKey).join(', ')}); pick one with --routing-key`,
    );
  }
  throw new OwnerResolutionError(`--sandbox ${name}: no routing rule leads to it; ${describe(owners)}`);
}

/**
 * The owners of a run, in command-line order (baseline first), with the owners each key should reach
 * by the current rules. `owners` is the routeserver's view (the console's owner list).
 * @throws OwnerResolutionError for an unknown sandbox, an ambiguous one, or an owner named twice
 */
export function resolveOwners(request: OwnerRequest, owners: readonly ConsoleOwner[]): LoadOwner[] {
  const resolved: LoadOwner[] = [];
  if (request.baseline) resolved.push(BASELINE_LOAD_OWNER);
  for (const name of request.sandboxes) {
    const owner = sandboxOwner(name, owners);
    resolved.push({
      name: ownerLabel({ kind: 'sandbox', sandboxName: name }),
      routingKey: owner.routingKey,
      expected: { worker: owner.workerOwner, ingress: owner.ingressOwner },
    });
  }
  for (const routingKey of request.routingKeys) {
    const owner = owners.find((o) => o.routingKey === routingKey);
    resolved.push({
      name: `key:${routingKey}`,
      routingKey,
      // A key without a rule is the baseline's: that is what the run then checks.
      expected: {
        worker: owner?.workerOwner ?? BASELINE_LABEL,
        ingress: owner?.ingressOwner ?? BASELINE_LABEL,
      },
    });
  }
  if (resolved.length === 0) {
    throw new OwnerResolutionError(
      'name at least one owner: --baseline, --sandbox NAME or --routing-key KEY',
    );
  }
  const seen = new Set<string>();
  for (const owner of resolved) {
    const key = owner.routingKey ?? '';
    if (seen.has(key)) {
      throw new OwnerResolutionError(
        `${owner.name} is named twice (routing key ${owner.routingKey ?? '(none)'}); each owner once`,
      );
    }
    seen.add(key);
  }
  return resolved;
}
