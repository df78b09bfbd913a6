import type { K8sObject } from './manifests';

/**
 * A NetworkPolicy evaluator for the manifest tests: does a set of rendered policies let one pod open a
 * connection to another on a port? It follows the API's semantics (policies add up; a pod selected by a
 * policy of a direction is isolated in that direction; a connection needs the sender's egress and the
 * receiver's ingress) for label selectors, namespace selectors, ipBlocks (IPv4) and numeric or named
 * ports. k8s-validate checks the policies against each other; this answers "is flow X allowed", which the
 * tests ask for the traffic each pod needs and for traffic it must not get.
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface PolicySpec {
  podSelector: LabelSelector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: { from?: PolicyPeer[]; ports?: PolicyPort[] }[];
  egress?: { to?: PolicyPeer[]; ports?: PolicyPort[] }[];
}

/** One end of a connection: a pod (namespace, its labels, its named ports) or an address outside the cluster. */
export interface Endpoint {
  /** For an address outside the cluster: no namespace, only `ip`. */
  namespace?: string;
  namespaceLabels?: Record<string, string>;
  labels?: Record<string, string>;
  /** Container port names of the pod, for policies that name ports. */
  portNames?: Record<string, number>;
  ip?: string;
}

export interface Port {
  port: number;
  protocol?: 'TCP' | 'UDP';
}

export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    const value = labels[key] ?? '';
    const ok =
      operator === 'In'
        ? has && values.includes(value)
        : operator === 'NotIn'
          ? !has || !values.includes(value)
          : operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

function ipv4(address: string): number {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${address}`);
  }
  return parts.reduce((n, p) => n * 256 + p, 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipv4(base) / size) * size;
  const n = ipv4(ip);
  return n >= start && n < start + size;
}

function namespaceLabelsOf(e: Endpoint): Record<string, string> {
  return { ...e.namespaceLabels, 'kubernetes.io/metadata.name': e.namespace ?? '' };
}

function peerMatches(peer: PolicyPeer, policyNamespace: string, e: Endpoint): boolean {
  if (peer.ipBlock) {
    if (e.ip === undefined) return false;
    return (
      inCidr(e.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((x) => inCidr(e.ip as string, x))
    );
  }
  if (e.namespace === undefined) return false;
  if (peer.namespaceSelector) {
    if (!selectorMatches(peer.namespaceSelector, namespaceLabelsOf(e))) return false;
  } else if (e.namespace !== policyNamespace) {
    return false;
  }
  return selectorMatches(peer.podSelector, e.labels ?? {});
}

function portMatches(ports: PolicyPort[] | undefined, port: Port, destination: Endpoint): boolean {
  if (!ports || ports.length === 0) return true;
  const protocol = port.protocol ?? 'TCP';
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') return destination.portNames?.[p.port] === port.port;
    return port.port >= p.port && port.port <= (p.endPort ?? p.port);
  });
}

interface Policy {
  namespace: string;
  spec: PolicySpec;
  ingress: boolean;
  egress: boolean;
}

function policiesOf(objects: K8sObject[]): Policy[] {
  return objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .map((o) => {
      const spec = o.spec as PolicySpec;
      const types = spec.policyTypes ?? (spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress']);
      return {
        namespace: o.metadata.namespace ?? '',
        spec,
        ingress: types.includes('Ingress'),
        egress: types.includes('Egress'),
      };
    });
}

function selects(p: Policy, e: Endpoint): boolean {
  return e.namespace === p.namespace && selectorMatches(p.spec.podSelector, e.labels ?? {});
}

/** The NetworkPolicies of one or more renders (e.g. the stack and the producer Job's overlay), as the cluster holds them. */
export class PolicySet {
  private readonly policies: Policy[];

  constructor(objects: K8sObject[]) {
    this.policies = policiesOf(objects);
  }

  /** Whether the policies of `from` let it out to `to` on the port. */
  egressAllowed(from: Endpoint, to: Endpoint, port: Port): boolean {
    const mine = this.policies.filter((p) => p.egress && selects(p, from));
    if (mine.length === 0) return true;
    return mine.some((p) =>
      (p.spec.egress ?? []).some(
        (rule) =>
          portMatches(rule.ports, port, to) &&
          (!rule.to || rule.to.length === 0 || rule.to.some((peer) => peerMatches(peer, p.namespace, to))),
      ),
    );
  }

  /** Whether the policies of `to` let `from` in on the port. */
  ingressAllowed(from: Endpoint, to: Endpoint, port: Port): boolean {
    const mine = this.policies.filter((p) => p.ingress && selects(p, to));
    if (mine.length === 0) return true;
    return mine.some((p) =>
      (p.spec.ingress ?? []).some(
        (rule) =>
          portMatches(rule.ports, port, to) &&
          (!rule.from ||
            rule.from.length === 0 ||
            rule.from.some((peer) => peerMatches(peer, p.namespace, from))),
      ),
    );
  }

  /**
   * Whether the connection passes both ends. The policies of pods outside the render (kube-system, the
   * signadot namespace, Prometheus) are not ours: only the end the render holds policies for is judged.
   */
  allowed(from: Endpoint, to: Endpoint, port: Port): boolean {
    return this.egressAllowed(from, to, port) && this.ingressAllowed(from, to, port);
  }
}
