/**
 * A routing decision made once and carried with the work it placed: for one routing key, who owns it
 * for each workload the work goes through. The baseline ingress decides an event's owners and, when a
 * sandbox forks the ingress, forwards the record with its decision; the fork honours it instead of
 * deciding again (DESIGN §4, §9), so a rule that changes while the record waits in the sandbox's topic
 * cannot send the event's workflow to another owner.
 *
 * Pure code (no Node modules): the format is a small JSON object, carried as a Kafka header value.
 */
import { type Owner, ownerFromLabel, ownerLabel, sameWorkload, type WorkloadRef } from './types';

/** Kafka header of a forwarded record that holds the decision (one, added to the original headers). */
export const CARRIED_DECISION_HEADER = 'sd-routing-decision';

export interface CarriedDecision {
  routingKey: string;
  /** The owner per workload, as decided. */
  owners: { workload: WorkloadRef; owner: Owner }[];
  /** The instance that decided (`ownerLabel`), for logs and trail records. */
  decidedBy: string;
  /** When (ISO 8601). */
  decidedAt: string;
}

interface Wire {
  v: 1;
  key: string;
  /** `kind/namespace/name` → owner label. */
  owners: Record<string, string>;
  by: string;
  at: string;
}

const MAX_BYTES = 4096;

function workloadId(workload: WorkloadRef): string {
  return `${workload.kind}/${workload.namespace}/${workload.name}`;
}

function parseWorkloadId(id: string): WorkloadRef | undefined {
  const parts = id.split('/');
  if (parts.length !== 3 || parts.some((part) => part.length === 0)) return undefined;
  const [kind, namespace, name] = parts as [string, string, string];
  return { kind, namespace, name };
}

export function formatCarriedDecision(decision: CarriedDecision): string {
  const wire: Wire = {
    v: 1,
    key: decision.routingKey,
    owners: Object.fromEntries(decision.owners.map((o) => [workloadId(o.workload), ownerLabel(o.owner)])),
    by: decision.decidedBy,
    at: decision.decidedAt,
  };
  return JSON.stringify(wire);
}

/** The decision in a header value; undefined when it is absent, too large or not well-formed. */
export function parseCarriedDecision(text: string | undefined): CarriedDecision | undefined {
  if (!text || text.length > MAX_BYTES) return undefined;
  let wire: Partial<Wire>;
  try {
    wire = JSON.parse(text) as Partial<Wire>;
  } catch {
    return undefined;
  }
  if (wire?.v !== 1 || typeof wire.key !== 'string' || wire.key === '') return undefined;
  if (typeof wire.owners !== 'object' || wire.owners === null) return undefined;
  const owners: CarriedDecision['owners'] = [];
  for (const [id, label] of Object.entries(wire.owners)) {
    const workload = parseWorkloadId(id);
    const owner = typeof label === 'string' ? ownerFromLabel(label) : undefined;
    if (!workload || !owner) return undefined;
    owners.push({ workload, owner });
  }
  return {
    routingKey: wire.key,
    owners,
    decidedBy: typeof wire.by === 'string' ? wire.by : '',
    decidedAt: typeof wire.at === 'string' ? wire.at : '',
  };
}

/** The owner the decision names for `workload`, if it names one. */
export function decidedOwnerOf(
  decision: CarriedDecision | undefined,
  workload: WorkloadRef,
): Owner | undefined {
  return decision?.owners.find((o) => sameWorkload(o.workload, workload))?.owner;
}
