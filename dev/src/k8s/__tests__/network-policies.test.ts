import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  expandSpec,
  type JobRunnerGroupSpec,
  type K8sObject,
  kustomization,
  objectsOf,
  podTemplate,
  runValidator,
  sampleValue,
  signadotFiles,
} from '../manifests';
import { type Endpoint, PolicySet, type Port } from '../network-policy';

/**
 * The NetworkPolicies: k8s-validate's checks (a pod no policy selects, a namespace without a default
 * deny, ports nothing listens on, traffic one side allows and the other refuses), then the traffic the
 * policies of the overlays allow and refuse, pod by pod, Signadot forks included.
 */

const NS = 'sandbox-routing';

// --- the validator's checks, on small kustomizations written for each case -------------------------

const deployment = (name: string, ports: { name: string; containerPort: number }[] = []) =>
  [
    'apiVersion: apps/v1',
    'kind: Deployment',
    `metadata: {name: ${name}}`,
    'spec:',
    `  selector: {matchLabels: {app: ${name}}}`,
    '  template:',
    `    metadata: {labels: {app: ${name}}}`,
    '    spec:',
    `      containers: [{name: ${name}, image: example/${name}, ports: ${JSON.stringify(ports)}}]`,
  ].join('\n');

const DEFAULT_DENY = [
  'apiVersion: networking.k8s.io/v1',
  'kind: NetworkPolicy',
  'metadata: {name: default-deny}',
  'spec: {podSelector: {}, policyTypes: [Ingress, Egress]}',
].join('\n');

/** A policy for pods app=<app>: `ingress` and `egress` rules as YAML flow text. */
const policy = (app: string, rules: { ingress?: string[]; egress?: string[] }) =>
  [
    'apiVersion: networking.k8s.io/v1',
    'kind: NetworkPolicy',
    `metadata: {name: ${app}}`,
    'spec:',
    `  podSelector: {matchLabels: {app: ${app}}}`,
    '  policyTypes: [Ingress, Egress]',
    `  ingress: [${(rules.ingress ?? []).join(', ')}]`,
    `  egress: [${(rules.egress ?? []).join(', ')}]`,
  ].join('\n');

const from = (app: string, ...ports: (number | string)[]) =>
  `{from: [{podSelector: {matchLabels: {app: ${app}}}}], ports: [${ports.map((p) => `{port: ${p}}`).join(', ')}]}`;
const to = (app: string, ...ports: (number | string)[]) =>
  `{to: [{podSelector: {matchLabels: {app: ${app}}}}], ports: [${ports.map((p) => `{port: ${p}}`).join(', ')}]}`;

describe('k8s-validate: NetworkPolicy checks', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'k8s-netpol-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  /** Validates a kustomization made of the given documents (in namespace demo unless `namespace` is null). */
  const validate = (docs: string[], namespace: string | null = 'demo') => {
    const dir = path.join(root, `case-${++n}`);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'all.yaml'), `${docs.join('\n---\n')}\n`);
    writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      `${namespace ? `namespace: ${namespace}\n` : ''}resources: [all.yaml]\n`,
    );
    const { status, report } = runValidator([dir]);
    return { status, errors: report.kustomizations[0]?.errors ?? [] };
  };

  // Two pods that talk to each other, with everything both sides need: the baseline of each case below.
  const server = deployment('server', [{ name: 'http', containerPort: 8080 }]);
  const client = deployment('client');
  const serverPolicy = policy('server', { ingress: [from('client', 8080)] });
  const clientPolicy = policy('client', { egress: [to('server', 'http')] });

  it('passes a namespace with a default deny and a policy per pod whose two sides agree', () => {
    const { status, errors } = validate([DEFAULT_DENY, server, client, serverPolicy, clientPolicy]);
    assert.deepEqual(errors, []);
    assert.equal(status, 0);
  });

  it('fails a pod that no policy of its own selects, under a default deny', () => {
    const { status, errors } = validate([DEFAULT_DENY, server, client, serverPolicy]);
    assert.equal(status, 1);
    assert.deepEqual(
      errors.filter((e) => e.includes('no NetworkPolicy selects')),
      [
        'Deployment demo/client: no NetworkPolicy selects its pods (labels app=client) but namespace-wide ones: ' +
          'under a default deny they can reach and be reached by nothing; add a policy with the traffic they need',
      ],
    );
  });

  it('fails a pod that no policy selects at all, and a namespace without a default deny', () => {
    const { status, errors } = validate([server, client, serverPolicy]);
    assert.equal(status, 1);
    const text = errors.join('\n');
    assert.match(
      text,
      /Deployment demo\/client: no NetworkPolicy selects its pods \(labels app=client\): their traffic is not restricted/,
    );
    assert.match(text, /namespace "demo" has no default-deny NetworkPolicy/);
    assert.doesNotMatch(text, /Deployment demo\/server: no NetworkPolicy/, 'the server has its policy');
  });

  it('does not ask a building block (no namespace) for a default deny, but still for a policy per pod', () => {
    const { errors } = validate([server, client, serverPolicy], null);
    assert.ok(!errors.some((e) => e.includes('default-deny')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('Deployment client: no NetworkPolicy selects its pods')));
  });

  it('fails ports that no container of the pods on that side declares', () => {
    const { errors } = validate([
      DEFAULT_DENY,
      server,
      client,
      policy('server', { ingress: [from('client', 8080, 9999)] }),
      policy('client', { egress: [to('server', 8080, 'metrics')] }),
    ]);
    assert.deepEqual(errors.sort(), [
      'NetworkPolicy demo/client: spec.egress[0] allows TCP metrics to pods app=server, where no container declares it (Deployment demo/server)',
      'NetworkPolicy demo/server: spec.ingress[0] admits TCP 9999, which no container of the pods it selects declares (Deployment demo/server)',
    ]);
  });

  it('fails egress the receiving pods refuse, and ingress the sending pods may not send', () => {
    const stranger = deployment('stranger');
    const admin = deployment('admin');
    const { errors } = validate([
      DEFAULT_DENY,
      server,
      client,
      stranger,
      admin,
      policy('server', { ingress: [from('client', 8080), from('admin', 8080)] }),
      clientPolicy,
      policy('stranger', { egress: [to('server', 8080)] }),
      policy('admin', {}),
    ]);
    assert.deepEqual(errors.sort(), [
      'NetworkPolicy demo/server: admits Deployment demo/admin into Deployment demo/server on TCP 8080 (spec.ingress[1]), ' +
        'but no NetworkPolicy of Deployment demo/admin lets it out',
      'NetworkPolicy demo/stranger: lets Deployment demo/stranger connect to Deployment demo/server on TCP 8080 (spec.egress[0]), ' +
        'but no NetworkPolicy of Deployment demo/server admits it',
    ]);
  });

  it('fails malformed policies: port ranges, CIDRs, rules their policy types ignore', () => {
    const { errors } = validate([
      DEFAULT_DENY,
      server,
      client,
      serverPolicy,
      clientPolicy,
      [
        'apiVersion: networking.k8s.io/v1',
        'kind: NetworkPolicy',
        'metadata: {name: broken}',
        'spec:',
        '  podSelector: {matchLabels: {app: client}}',
        '  policyTypes: [Ingress]',
        '  egress:',
        '    - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]',
        '      ports: [{port: http, endPort: 9000}, {protocol: ICMP, port: 1}]',
      ].join('\n'),
    ]);
    const text = errors.join('\n');
    assert.match(text, /broken: spec\.egress has rules but spec\.policyTypes leaves out Egress/);
    assert.match(
      text,
      /broken: spec\.egress\[0\]\.to\[0\]\.ipBlock\.except\[0\] 192\.168\.0\.0\/16 is not a strict subset/,
    );
    assert.match(text, /broken: spec\.egress\[0\]\.ports\[0\]\.endPort needs a numeric port/);
    assert.match(text, /broken: spec\.egress\[0\]\.ports\[1\]\.protocol "ICMP"/);
  });
});

// --- the traffic the repository's policies allow and refuse ------------------------------------------

const pod = (name: string, objects: K8sObject[], extra: Partial<Endpoint> = {}): Endpoint => {
  const workload = objects.find((o) => podTemplate(o)?.metadata?.labels?.['app.kubernetes.io/name'] === name);
  assert.ok(workload, `a workload with pods app.kubernetes.io/name=${name}`);
  const tmpl = podTemplate(workload);
  const portNames = Object.fromEntries(
    (tmpl?.spec.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => [p.name ?? '', p.containerPort])),
  );
  return { namespace: NS, labels: tmpl?.metadata?.labels ?? {}, portNames, ...extra };
};

/** Pods outside the namespace, as the policies name them. */
const DNS: Endpoint = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
const ROUTESERVER: Endpoint = { namespace: 'signadot', labels: { app: 'routeserver' } };
/** The operator's agent, which proxies preview-URL requests (any pod of the signadot namespace). */
const SIGNADOT_AGENT: Endpoint = { namespace: 'signadot', labels: { app: 'signadot-agent' } };
const PROMETHEUS: Endpoint = {
  namespace: 'monitoring',
  namespaceLabels: { 'sandbox-routing/scrape-metrics': 'true' },
  labels: { 'app.kubernetes.io/name': 'prometheus' },
};
const OTHER_NAMESPACE: Endpoint = { namespace: 'default', labels: { run: 'curl' } };
const INTERNET: Endpoint = { ip: '203.0.113.10' };

const tcp = (port: number): Port => ({ port, protocol: 'TCP' });
const DNS_PORTS: Port[] = [
  { port: 53, protocol: 'UDP' },
  { port: 53, protocol: 'TCP' },
];

/** A Signadot fork of a Deployment: the operator copies its pod template without the baseline's labels. */
const fork = (): Endpoint => ({ namespace: NS, labels: {} });

describe('network policies of the overlays', () => {
  const dev = objectsOf(kustomization('k8s/overlays/dev'));
  const devProducer = objectsOf(kustomization('k8s/overlays/dev-producer'));
  // The cluster holds the stack's and the producer Job's policies together.
  const cluster = new PolicySet([...dev, ...devProducer]);
  const p = (name: string) => pod(name, [...dev, ...devProducer]);
  const runnerGroup = signadotFiles()
    .filter((f) => f.kind === 'jobrunnergroup')
    .map(
      (f) =>
        expandSpec(f.text, Object.fromEntries(f.vars.map((v) => [v, sampleValue(v)]))) as JobRunnerGroupSpec,
    )[0];
  const loadRunner: Endpoint = {
    namespace: NS,
    labels: runnerGroup?.spec.podTemplate?.metadata?.labels,
  };

  const expectAllowed = (policies: PolicySet, flows: [string, Endpoint, Endpoint, Port[]][]) => {
    for (const [what, src, dst, ports] of flows) {
      for (const port of ports) {
        assert.ok(policies.allowed(src, dst, port), `${what} on ${port.protocol} ${port.port} is allowed`);
      }
    }
  };
  const expectDenied = (policies: PolicySet, flows: [string, Endpoint, Endpoint, Port[]][]) => {
    for (const [what, src, dst, ports] of flows) {
      for (const port of ports) {
        assert.ok(!policies.allowed(src, dst, port), `${what} on ${port.protocol} ${port.port} is refused`);
      }
    }
  };

  it('the dev overlay and the producer Job deny by default', () => {
    for (const objects of [dev, devProducer]) {
      const deny = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'default-deny');
      assert.deepEqual(deny?.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    }
  });

  /** What each pod of the dev overlay needs (k8s/README.md, "Network policies"). */
  const needs = (): [string, Endpoint, Endpoint, Port[]][] => [
    ...['ingress', 'worker', 'console'].flatMap((app): [string, Endpoint, Endpoint, Port[]][] => [
      [`${app} → Kafka`, p(app), p('kafka'), [tcp(9092)]],
      [`${app} → Temporal frontend`, p(app), p('temporal'), [tcp(7233)]],
      [`${app} → routeserver`, p(app), ROUTESERVER, [tcp(7777), tcp(7778)]],
      [`${app} → DNS`, p(app), DNS, DNS_PORTS],
    ]),
    // The notifier reads Kafka and asks the routeserver, no Temporal; payments only polls Temporal.
    ['notifier → Kafka', p('notifier'), p('kafka'), [tcp(9092)]],
    ['notifier → routeserver', p('notifier'), ROUTESERVER, [tcp(7777), tcp(7778)]],
    ['notifier → DNS', p('notifier'), DNS, DNS_PORTS],
    ['payments → Temporal frontend', p('payments'), p('temporal'), [tcp(7233)]],
    ['payments → DNS', p('payments'), DNS, DNS_PORTS],
    ['Prometheus → notifier metrics', PROMETHEUS, p('notifier'), [tcp(8084)]],
    ['Prometheus → payments metrics', PROMETHEUS, p('payments'), [tcp(8083)]],
    ['preview URL → notifier-http', SIGNADOT_AGENT, p('notifier'), [tcp(8084)]],
    ['preview URL → payments-http', SIGNADOT_AGENT, p('payments'), [tcp(8083)]],
    ['producer Job → Kafka', p('producer'), p('kafka'), [tcp(9092)]],
    ['producer Job → DNS', p('producer'), DNS, DNS_PORTS],
    ['kafka-topics Job → Kafka', p('kafka-topics'), p('kafka'), [tcp(9092)]],
    ['Kafka → Kafka (replication, quorum)', p('kafka'), p('kafka'), [tcp(9092), tcp(9093)]],
    ['Kafka → DNS', p('kafka'), DNS, DNS_PORTS],
    ['Temporal → PostgreSQL', p('temporal'), p('temporal-postgres'), [tcp(5432)]],
    ['Temporal UI → frontend', p('temporal-ui'), p('temporal'), [tcp(7233)]],
    ['temporal-setup Job → frontend', p('temporal-setup'), p('temporal'), [tcp(7233)]],
    ['Prometheus → ingress, worker, Temporal metrics', PROMETHEUS, p('ingress'), [tcp(8081)]],
    ['Prometheus → worker metrics', PROMETHEUS, p('worker'), [tcp(8082)]],
    ['Prometheus → Temporal metrics', PROMETHEUS, p('temporal'), [tcp(9090)]],
    ['preview URL → console', SIGNADOT_AGENT, p('console'), [tcp(8090)]],
    ['preview URL → ingress-http, worker-http', SIGNADOT_AGENT, p('ingress'), [tcp(8081)]],
    ['preview URL → worker-http', SIGNADOT_AGENT, p('worker'), [tcp(8082)]],
    ['load runner → Kafka', loadRunner, p('kafka'), [tcp(9092)]],
    ['load runner → routeserver', loadRunner, ROUTESERVER, [tcp(7778)]],
    ['load runner → DNS', loadRunner, DNS, DNS_PORTS],
  ];

  it('allows the traffic each pod needs', () => {
    assert.ok(loadRunner.labels?.['app.kubernetes.io/name'], 'the job runner pods carry a name label');
    expectAllowed(cluster, needs());
  });

  it('refuses everything else tried here: other ports, other peers, other namespaces, the internet', () => {
    expectDenied(cluster, [
      ['ingress → PostgreSQL', p('ingress'), p('temporal-postgres'), [tcp(5432)]],
      ['console → PostgreSQL', p('console'), p('temporal-postgres'), [tcp(5432)]],
      ['worker → Kafka controller', p('worker'), p('kafka'), [tcp(9093)]],
      ['services → Temporal HTTP API', p('ingress'), p('temporal'), [tcp(7243)]],
      ['producer Job → Temporal', p('producer'), p('temporal'), [tcp(7233)]],
      ['kafka-topics Job → Temporal', p('kafka-topics'), p('temporal'), [tcp(7233)]],
      ['ingress → worker', p('ingress'), p('worker'), [tcp(8082)]],
      ['worker → console', p('worker'), p('console'), [tcp(8090)]],
      ['Prometheus → console', PROMETHEUS, p('console'), [tcp(8090)]],
      ['another namespace → console', OTHER_NAMESPACE, p('console'), [tcp(8090)]],
      ['another namespace → Kafka', OTHER_NAMESPACE, p('kafka'), [tcp(9092)]],
      ['another namespace → Temporal', OTHER_NAMESPACE, p('temporal'), [tcp(7233)]],
      ['another namespace → metrics', OTHER_NAMESPACE, p('worker'), [tcp(8082)]],
      ['preview proxy → Kafka', SIGNADOT_AGENT, p('kafka'), [tcp(9092)]],
      ['ingress → internet', p('ingress'), INTERNET, [tcp(443), tcp(9092)]],
      ['worker → internet', p('worker'), INTERNET, [tcp(443), tcp(7233)]],
      ['console → internet', p('console'), INTERNET, [tcp(443)]],
      ['Kafka → internet', p('kafka'), INTERNET, [tcp(443)]],
      ['PostgreSQL → anything', p('temporal-postgres'), DNS, DNS_PORTS],
      ['load runner → Temporal', loadRunner, p('temporal'), [tcp(7233)]],
      ['console → routeserver admin, other ports', p('console'), ROUTESERVER, [tcp(8080)]],
      ['notifier → Temporal', p('notifier'), p('temporal'), [tcp(7233)]],
      ['notifier → internet', p('notifier'), INTERNET, [tcp(443), tcp(9092)]],
      ['payments → Kafka', p('payments'), p('kafka'), [tcp(9092)]],
      ['payments → routeserver', p('payments'), ROUTESERVER, [tcp(7777), tcp(7778)]],
      ['payments → internet', p('payments'), INTERNET, [tcp(443), tcp(7233)]],
      ['ingress → notifier', p('ingress'), p('notifier'), [tcp(8084)]],
      ['worker → payments', p('worker'), p('payments'), [tcp(8083)]],
      ['another namespace → payments metrics', OTHER_NAMESPACE, p('payments'), [tcp(8083)]],
    ]);
  });

  const forkHttp = (app: string, httpPort: number): [string, Endpoint, Endpoint, Port[]][] => [
    [`Prometheus → fork of ${app}`, PROMETHEUS, fork(), [tcp(httpPort)]],
    [`preview URL → fork of ${app}`, SIGNADOT_AGENT, fork(), [tcp(httpPort)]],
    // The traffic-manager sidecar Signadot injects into forks talks to the operator.
    [`fork of ${app}'s sidecar → operator`, fork(), SIGNADOT_AGENT, [tcp(8080)]],
  ];

  it('a Signadot fork of any service (baseline labels stripped) gets what its baseline gets', () => {
    for (const app of ['ingress', 'worker']) {
      const own = needs().filter(([what]) => what.startsWith(`${app} →`));
      assert.equal(own.length, 4, `${app}: Kafka, Temporal, routeserver, DNS`);
      expectAllowed(
        cluster,
        own.map(([what, , dst, ports]) => [`fork of ${what}`, fork(), dst, ports]),
      );
      const httpPort = app === 'ingress' ? 8081 : 8082;
      expectAllowed(cluster, forkHttp(app, httpPort));
    }
    // Forks of the notifier and of payments: what their baselines need, and their HTTP ports.
    for (const [app, httpPort, count] of [
      ['notifier', 8084, 3],
      ['payments', 8083, 2],
    ] as const) {
      const own = needs().filter(([what]) => what.startsWith(`${app} →`));
      assert.equal(own.length, count, `${app}: its dependencies`);
      expectAllowed(
        cluster,
        own.map(([what, , dst, ports]) => [`fork of ${what}`, fork(), dst, ports]),
      );
      expectAllowed(cluster, forkHttp(app, httpPort));
    }
    expectDenied(cluster, [
      ['fork → PostgreSQL', fork(), p('temporal-postgres'), [tcp(5432)]],
      ['fork → console', fork(), p('console'), [tcp(8090)]],
      ['fork → internet', fork(), INTERNET, [tcp(443)]],
      ['another namespace → fork', OTHER_NAMESPACE, fork(), [tcp(8082)]],
    ]);
  });

  it('the managed overlays reach Kafka and Temporal at their addresses, and nothing in the cluster for them', () => {
    const managed = objectsOf(kustomization('k8s/overlays/managed'));
    const policies = new PolicySet(managed);
    const mp = (name: string) => pod(name, managed);
    const kafkaBroker: Endpoint = { ip: '198.51.100.20' };
    const temporalCloud: Endpoint = { ip: '198.51.100.30' };
    for (const src of [mp('ingress'), mp('worker'), mp('console'), fork()]) {
      expectAllowed(policies, [
        ['→ managed Kafka', src, kafkaBroker, [tcp(9092)]],
        ['→ Temporal Cloud', src, temporalCloud, [tcp(7233)]],
        ['→ DNS', src, DNS, DNS_PORTS],
        ['→ routeserver', src, ROUTESERVER, [tcp(7778)]],
      ]);
      expectDenied(policies, [['→ elsewhere on the internet', src, INTERNET, [tcp(443), tcp(80)]]]);
    }
    expectAllowed(policies, [
      ['notifier → managed Kafka', mp('notifier'), kafkaBroker, [tcp(9092)]],
      ['notifier → routeserver', mp('notifier'), ROUTESERVER, [tcp(7778)]],
      ['payments → Temporal Cloud', mp('payments'), temporalCloud, [tcp(7233)]],
    ]);
    expectDenied(policies, [
      ['notifier → Temporal Cloud', mp('notifier'), temporalCloud, [tcp(7233)]],
      ['payments → managed Kafka', mp('payments'), kafkaBroker, [tcp(9092)]],
    ]);
    expectAllowed(policies, [['load runner → managed Kafka', loadRunner, kafkaBroker, [tcp(9092)]]]);
    assert.equal(
      managed.filter((o) => o.kind === 'StatefulSet' || o.metadata.name === 'temporal').length,
      0,
      'no Kafka, Temporal or PostgreSQL in the cluster',
    );
    const managedTemporal = new PolicySet(objectsOf(kustomization('k8s/overlays/managed-temporal')));
    const objects = objectsOf(kustomization('k8s/overlays/managed-temporal'));
    expectAllowed(managedTemporal, [
      ['worker → in-cluster Kafka', pod('worker', objects), pod('kafka', objects), [tcp(9092)]],
      ['worker → Temporal Cloud', pod('worker', objects), temporalCloud, [tcp(7233)]],
    ]);
  });
});
