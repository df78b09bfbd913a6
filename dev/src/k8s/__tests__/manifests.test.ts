import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isValidRoutingKey, sandboxTaskQueue } from '@sandbox-routing/core';
import { sampleApplication } from '@sandbox-routing/sample';
import { describeConfig, isHostPort } from '@sandbox-routing/service-kit';
import { loadWorkerConfig, workerApplication, workerSchema } from '@sandbox-routing/worker';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import {
  baseImage,
  type Container,
  dockerStages,
  envOf,
  expandSpec,
  findObject,
  imageName,
  type K8sObject,
  type KustomizationReport,
  kustomization,
  nodeCommand,
  objectsOf,
  type PodTemplate,
  parseServiceTarget,
  podTemplate,
  REPO_ROOT,
  type RouteGroupSpec,
  repoValidation,
  routeGroupMatches,
  runValidator,
  type SandboxSpec,
  SETUP_HINT,
  type SignadotKind,
  sampleValue,
  secretFile,
  signadotFiles,
  stageCommand,
  stageUser,
  VALIDATOR,
  workloadOf,
} from '../manifests';

/**
 * Kubernetes manifests, container image targets and Signadot specs.
 *
 * Rendering and schema validation are done by k8s-validate (k8s/validate, Go; built by
 * dev/bin/setup-k8s-tools.sh): kustomize's own library renders every kustomization, each object is
 * strictly decoded into its k8s.io/api type, and semantic/cross-object checks run. This file adds the
 * invariants that matter for sandbox routing, on the objects the validator rendered.
 */

const ROOT = path.resolve(__dirname, '../../../..');

/** The namespace the dev overlay deploys to (and the Signadot specs fork in). */
const NAMESPACE = 'sandbox-routing';
const ROUTESERVER_URL = 'http://routeserver.signadot.svc:7778';
const ROUTESERVER_GRPC_ADDRESS = 'routeserver.signadot.svc:7777';

interface ServiceExpectation {
  name: 'ingress' | 'worker' | 'notifier' | 'payments';
  /** Source of the service's config schema (its HTTP port default is read from it). */
  configSource: string;
  /** Env vars with fixed values beyond the common ones. */
  env: Record<string, string>;
  /** Its container command (a `--require` entry starts OpenTelemetry first). */
  command: string[];
  /** Asks the routeserver (SIGNADOT_BASELINE_* identity); payments does not: its callers pick its queue. */
  routed: boolean;
  kafka: boolean;
  temporal: boolean;
}

const SERVICES: ServiceExpectation[] = [
  {
    name: 'ingress',
    configSource: 'ingress/src/config.ts',
    env: {
      KAFKA_TOPIC: 'events',
      KAFKA_DEAD_LETTER_TOPIC: 'events.dead-letter',
      KAFKA_CONSUMER_GROUP: 'ingress',
      WORKER_BASELINE_NAME: 'worker',
      TEMPORAL_TASK_QUEUE: 'orders',
    },
    command: nodeCommand('ingress', 'main.js'),
    routed: true,
    kafka: true,
    temporal: true,
  },
  {
    name: 'worker',
    configSource: 'worker/src/config.ts',
    env: { TEMPORAL_TASK_QUEUE: 'orders', KAFKA_RESULTS_TOPIC: 'events.results' },
    command: nodeCommand('worker', 'main.js'),
    routed: true,
    kafka: true,
    temporal: true,
  },
  {
    name: 'notifier',
    configSource: 'notifier/src/config.ts',
    env: {
      KAFKA_TOPIC: 'events',
      KAFKA_DEAD_LETTER_TOPIC: 'events.dead-letter',
      KAFKA_CONSUMER_GROUP: 'notifier',
      KAFKA_RESULTS_TOPIC: 'events.results',
    },
    command: nodeCommand('notifier', 'main.js'),
    routed: true,
    kafka: true,
    temporal: false,
  },
  {
    name: 'payments',
    configSource: 'payments/payments/config.py',
    env: { PAYMENTS_TASK_QUEUE: 'payments' },
    command: ['python3', '-m', 'payments'],
    routed: false,
    kafka: false,
    temporal: true,
  },
];

/** Overlays that deploy the sandbox-aware services, and whether Kafka and Temporal run in-cluster. */
const SERVICE_OVERLAYS = [
  { dir: 'k8s/overlays/dev', inClusterTemporal: true, inClusterKafka: true },
  { dir: 'k8s/overlays/managed-temporal', inClusterTemporal: false, inClusterKafka: true },
  { dir: 'k8s/overlays/managed', inClusterTemporal: false, inClusterKafka: false },
];

/**
 * Credentials of the managed services come from Secrets: files of a Secret volume mounted read-only, the
 * settings' *_FILE variables pointing at them (issue 21's setting names), never a value in the manifest.
 */
function assertManagedCredentials(
  overlay: (typeof SERVICE_OVERLAYS)[number],
  svc: ServiceExpectation,
  tmpl: PodTemplate,
  main: Container,
): void {
  const env = envOf(main);
  const value = (name: string) => env.get(name)?.value;
  const fromSecret = (name: string) => {
    const file = value(name);
    assert.ok(file, `${overlay.dir}: ${name} is set`);
    const entry = secretFile(tmpl, main, file);
    assert.ok(entry, `${overlay.dir}: ${name}=${file} is a file of a Secret mounted read-only`);
    return entry;
  };
  for (const secret of ['TEMPORAL_API_KEY', 'KAFKA_SASL_PASSWORD']) {
    assert.ok(!env.has(secret), `${overlay.dir}: ${secret} is read from its *_FILE, not the environment`);
  }
  if (!overlay.inClusterTemporal && svc.temporal) {
    assert.equal(value('TEMPORAL_TLS'), 'true');
    if (env.has('TEMPORAL_API_KEY_FILE')) {
      assert.deepEqual(fromSecret('TEMPORAL_API_KEY_FILE'), { secret: 'temporal-cloud', key: 'api-key' });
      assert.ok(!env.has('TEMPORAL_TLS_CERT_FILE'), 'an API key or a client certificate, not both');
    } else {
      assert.deepEqual(fromSecret('TEMPORAL_TLS_CERT_FILE'), { secret: 'temporal-cloud', key: 'tls.crt' });
      assert.deepEqual(fromSecret('TEMPORAL_TLS_KEY_FILE'), { secret: 'temporal-cloud', key: 'tls.key' });
    }
  }
  if (!overlay.inClusterKafka && svc.kafka) {
    assert.equal(value('KAFKA_TLS'), 'true');
    assert.ok(
      ['plain', 'scram-sha-256', 'scram-sha-512'].includes(value('KAFKA_SASL_MECHANISM') ?? ''),
      `${overlay.dir}: KAFKA_SASL_MECHANISM`,
    );
    assert.deepEqual(env.get('KAFKA_SASL_USERNAME')?.valueFrom?.secretKeyRef, {
      name: 'kafka-credentials',
      key: 'username',
    });
    assert.deepEqual(fromSecret('KAFKA_SASL_PASSWORD_FILE'), {
      secret: 'kafka-credentials',
      key: 'password',
    });
  }
}

/**
 * The HTTP port default of a service, read from its config schema source (`httpSchema({ port: N })`
 * or `routedServiceSchema({ name: '…', port: N })`; the Python service's `http_port: int = N`).
 */
function configuredHttpPort(source: string): number {
  const text = readFileSync(path.join(ROOT, source), 'utf8');
  if (source.endsWith('.py')) {
    const py = /^\s+http_port: int = (\d+)$/m.exec(text);
    assert.ok(py, `${source}: no "http_port: int = N" default found`);
    return Number(py[1]);
  }
  const m = /(?:httpSchema|routedServiceSchema)\(\s*\{[^}]*\bport:\s*(\d+)\s*\}\s*\)/.exec(text);
  assert.ok(m, `${source}: no httpSchema({ port: N }) or routedServiceSchema({ …, port: N }) found`);
  return Number(m[1]);
}

function deployment(
  k: KustomizationReport,
  name: string,
): { obj: K8sObject; tmpl: PodTemplate; main: Container } {
  return workloadOf(k, 'Deployment', name);
}

function labelsMatch(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
) {
  return (
    selector !== undefined &&
    Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([k, v]) => labels?.[k] === v)
  );
}

function dockerfile() {
  return dockerStages(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
}

/** Environment variables the Python payments service reads (its config.py's `text("NAME", …)` and kin). */
function paymentsSettings(): Set<string> {
  const text = readFileSync(path.join(ROOT, 'payments/payments/config.py'), 'utf8');
  const calls = /\b(?:text|one_of|integer|boolean|file_setting|http_url)\(\s*"([A-Z][A-Z0-9_]*)"/g;
  return new Set([...text.matchAll(calls)].map((m) => m[1] ?? ''));
}

/**
 * The environment variables a service reads: its config schema's (the Node services' compiled config,
 * loaded in a child process: this package does not depend on every service) or payments' config.py.
 */
function settingsOf(service: ServiceExpectation['name']): Set<string> {
  if (service === 'worker') return new Set(describeConfig(workerSchema).map((row) => row.env));
  if (service === 'payments') return paymentsSettings();
  const script =
    "const { describeConfig } = require('@sandbox-routing/service-kit');" +
    `const config = require('./${service}/dist/config.js');` +
    `console.log(JSON.stringify(describeConfig(config.${service}Schema).map((row) => row.env)));`;
  const run = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 0, run.stderr);
  return new Set(JSON.parse(run.stdout) as string[]);
}

describe('kubernetes manifests', () => {
  it('resolves the repository root from the compiled test file', () => {
    assert.equal(ROOT, REPO_ROOT);
    assert.ok(existsSync(path.join(ROOT, 'k8s', 'overlays', 'dev', 'kustomization.yaml')));
  });

  it('has the validator binary (k8s-validate)', () => {
    assert.ok(existsSync(VALIDATOR), `${path.relative(ROOT, VALIDATOR)} is missing: ${SETUP_HINT}`);
  });

  it('renders and validates every kustomization offline', () => {
    const { report, status, stderr } = repoValidation();
    const dirs = report.kustomizations.map((k) => k.dir);
    for (const expected of [
      'k8s/base',
      'k8s/overlays/dev',
      'k8s/overlays/dev-producer',
      'k8s/overlays/managed',
      'k8s/overlays/managed-temporal',
    ]) {
      assert.ok(dirs.includes(expected), `k8s-validate did not find ${expected} (found ${dirs.join(', ')})`);
    }
    const failures = report.kustomizations
      .filter((k) => !k.ok)
      .map((k) => `${k.dir}:\n  ${k.errors.join('\n  ')}`);
    assert.deepEqual(failures, [], `invalid manifests:\n${failures.join('\n')}\n${stderr}`);
    assert.equal(report.ok, true);
    assert.equal(status, 0);
    for (const k of report.kustomizations) assert.ok(k.summary.length > 0, `${k.dir} renders nothing`);
  });

  describe('the validator catches broken manifests', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'k8s-validate-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('reports unknown fields, removed APIs, bad references and dangling selectors', () => {
      writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: [broken.yaml]\n');
      writeFileSync(
        path.join(dir, 'broken.yaml'),
        [
          'apiVersion: apps/v1',
          'kind: Deployment',
          'metadata: {name: app}',
          'spec:',
          '  selector: {matchLabels: {app: app}}',
          '  template:',
          '    metadata: {labels: {app: app}}',
          '    spec:',
          '      containers:',
          '        - name: app',
          '          image: example/app',
          '          imagePullPolcy: Always',
          '          ports: [{name: http, containerPort: 8080}]',
          '          env: [{name: A, value: "$(LATER)"}, {name: LATER, value: x}]',
          '          readinessProbe: {httpGet: {path: /readyz, port: metrics}}',
          '---',
          'apiVersion: v1',
          'kind: Service',
          'metadata: {name: app}',
          'spec: {selector: {app: other}, ports: [{port: 80}]}',
          '---',
          'apiVersion: policy/v1beta1',
          'kind: PodDisruptionBudget',
          'metadata: {name: app}',
          'spec: {maxUnavailable: 1, selector: {matchLabels: {app: app}}}',
          '',
        ].join('\n'),
      );
      const { status, report } = runValidator([dir]);
      assert.equal(status, 1);
      assert.equal(report.ok, false);
      const errors = report.kustomizations[0]?.errors.join('\n') ?? '';
      for (const expected of [
        /unknown field "spec\.template\.spec\.containers\[0\]\.imagePullPolcy"/,
        /no schema compiled in for apiVersion "policy\/v1beta1"/,
        /env A references \$\(LATER\), which is not defined earlier/,
        /readinessProbe port "metrics" is not a named port/,
        /Service app: selector app=other matches no pod template/,
      ]) {
        assert.match(errors, expected);
      }
    });

    it('fails a kustomization that does not build', () => {
      const bad = path.join(dir, 'nobuild');
      mkdirSync(bad);
      writeFileSync(path.join(bad, 'kustomization.yaml'), 'resources: [missing.yaml]\n');
      const { status, report } = runValidator([bad]);
      assert.equal(status, 1);
      assert.match(report.kustomizations[0]?.errors.join('\n') ?? '', /kustomize build/);
    });
  });

  for (const overlay of SERVICE_OVERLAYS) {
    describe(`sandbox-aware Deployments in ${overlay.dir}`, () => {
      for (const svc of SERVICES) {
        it(`${svc.name}: routing identity and service env`, () => {
          const k = kustomization(overlay.dir);
          const { obj, main } = deployment(k, svc.name);
          const env = envOf(main);
          const value = (name: string) => {
            const e = env.get(name);
            assert.ok(e, `${svc.name}: env ${name} is missing`);
            return e.value;
          };

          if (svc.routed) {
            assert.equal(value('SIGNADOT_BASELINE_KIND'), 'Deployment');
            assert.equal(
              value('SIGNADOT_BASELINE_NAME'),
              obj.metadata.name,
              'baseline name = the Deployment name',
            );
            assert.deepEqual(
              env.get('SIGNADOT_BASELINE_NAMESPACE')?.valueFrom,
              { fieldRef: { fieldPath: 'metadata.namespace' } },
              'SIGNADOT_BASELINE_NAMESPACE comes from the downward API',
            );
            assert.equal(env.get('SIGNADOT_BASELINE_NAMESPACE')?.value, undefined);
            assert.equal(value('SIGNADOT_ROUTESERVER_URL'), ROUTESERVER_URL);
            assert.equal(
              value('SIGNADOT_ROUTESERVER_GRPC_ADDRESS'),
              ROUTESERVER_GRPC_ADDRESS,
              'push updates',
            );
          } else {
            const routing = [...env.keys()].filter((name) => name.startsWith('SIGNADOT_'));
            assert.deepEqual(routing, [], `${svc.name} has no routing settings`);
          }
          assert.ok(
            !env.has('SIGNADOT_SANDBOX_NAME'),
            'SIGNADOT_SANDBOX_NAME must not be set: Signadot injects it into forks only',
          );

          if (svc.kafka) {
            const brokers = value('KAFKA_BROKERS') ?? '';
            assert.ok(
              brokers.split(',').every((b) => isHostPort(b.trim())),
              `KAFKA_BROKERS ${brokers} is not a host:port list`,
            );
          } else {
            assert.deepEqual(
              [...env.keys()].filter((name) => name.startsWith('KAFKA_')),
              [],
              `${svc.name} does not use Kafka`,
            );
          }
          if (svc.temporal) {
            assert.ok(isHostPort(value('TEMPORAL_ADDRESS') ?? ''), 'TEMPORAL_ADDRESS is host:port');
            assert.ok((value('TEMPORAL_NAMESPACE') ?? '') !== '');
            if (overlay.inClusterTemporal) assert.equal(value('TEMPORAL_NAMESPACE'), 'default');
          } else {
            assert.deepEqual(
              [...env.keys()].filter((name) => name.startsWith('TEMPORAL_')),
              [],
              `${svc.name} does not use Temporal`,
            );
          }
          assert.equal(value('HTTP_HOST'), '0.0.0.0');
          assert.equal(value('HTTP_PORT'), String(configuredHttpPort(svc.configSource)));
          assert.equal(value('OTEL_TRACES_EXPORTER'), 'none');
          assert.match(
            value('OTEL_EXPORTER_OTLP_ENDPOINT') ?? '',
            /^http:\/\/[a-z0-9.-]+:4318$/,
            'an OTLP/HTTP endpoint',
          );
          assert.equal(value('LOG_LEVEL'), 'info');
          for (const [name, expected] of Object.entries(svc.env)) assert.equal(value(name), expected, name);

          assertManagedCredentials(overlay, svc, deployment(k, svc.name).tmpl, deployment(k, svc.name).main);
        });

        it(`${svc.name}: addresses point at Services of the same render`, () => {
          const k = kustomization(overlay.dir);
          const env = envOf(deployment(k, svc.name).main);
          const targets = overlay.inClusterKafka && svc.kafka ? [env.get('KAFKA_BROKERS')?.value ?? ''] : [];
          if (overlay.inClusterTemporal && svc.temporal)
            targets.push(env.get('TEMPORAL_ADDRESS')?.value ?? '');
          for (const hostPort of targets.flatMap((t) => t.split(','))) {
            const [host, port] = hostPort.trim().split(':');
            const service = findObject(k, 'Service', host ?? '');
            assert.ok(service, `${hostPort}: no Service ${host} in ${overlay.dir}`);
            const ports = (service.spec?.ports ?? []) as { port: number }[];
            assert.ok(
              ports.some((p) => p.port === Number(port)),
              `${hostPort}: Service ${host} has no port ${port}`,
            );
          }
        });

        it(`${svc.name}: ports and probes match the service config`, () => {
          const k = kustomization(overlay.dir);
          const { tmpl, main } = deployment(k, svc.name);
          const port = configuredHttpPort(svc.configSource);
          assert.deepEqual(
            (main.ports ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort })),
            [{ name: 'http', containerPort: port }],
          );
          const probePort = (p: number | string | undefined) => (p === 'http' ? port : p);
          assert.equal(main.livenessProbe?.httpGet?.path, '/healthz');
          assert.equal(probePort(main.livenessProbe?.httpGet?.port), port);
          assert.equal(main.readinessProbe?.httpGet?.path, '/readyz');
          assert.equal(probePort(main.readinessProbe?.httpGet?.port), port);
          if (main.startupProbe) assert.equal(probePort(main.startupProbe.httpGet?.port), port);

          const annotations = tmpl.metadata?.annotations ?? {};
          assert.equal(annotations['prometheus.io/scrape'], 'true');
          assert.equal(annotations['prometheus.io/port'], String(port));
          assert.equal(annotations['prometheus.io/path'], '/metrics');
        });

        it(`${svc.name}: command, image, shutdown, resources and security`, () => {
          const k = kustomization(overlay.dir);
          const { tmpl, main } = deployment(k, svc.name);
          assert.deepEqual(main.command, svc.command);
          assert.equal(main.args, undefined);
          assert.equal(main.workingDir, '/app');
          assert.equal(imageName(main.image), `sandbox-routing/${svc.name}`);
          assert.equal(tmpl.spec.terminationGracePeriodSeconds, 45);
          for (const kind of ['requests', 'limits'] as const) {
            for (const resource of ['cpu', 'memory']) {
              assert.ok(main.resources?.[kind]?.[resource], `resources.${kind}.${resource} is set`);
            }
          }
          const pod = tmpl.spec.securityContext ?? {};
          const ctr = main.securityContext ?? {};
          assert.equal(ctr.runAsNonRoot ?? pod.runAsNonRoot, true, 'runAsNonRoot');
          assert.ok((ctr.runAsUser ?? pod.runAsUser ?? 0) > 0, 'a numeric non-root runAsUser');
          assert.equal(ctr.readOnlyRootFilesystem, true, 'read-only root file system');
          assert.equal(ctr.allowPrivilegeEscalation, false);
          assert.deepEqual(ctr.capabilities?.drop, ['ALL']);
          assert.equal(
            tmpl.spec.enableServiceLinks,
            false,
            'no service-link env vars next to KAFKA_*/TEMPORAL_*',
          );
        });

        it(`${svc.name}: has a PodDisruptionBudget`, () => {
          const k = kustomization(overlay.dir);
          const { tmpl } = deployment(k, svc.name);
          const pdbs = objectsOf(k, 'PodDisruptionBudget').filter((p) =>
            labelsMatch(p.spec?.selector?.matchLabels, tmpl.metadata?.labels),
          );
          assert.equal(pdbs.length, 1, `exactly one PodDisruptionBudget selects ${svc.name}`);
        });
      }
    });
  }

  describe("the sample application's declaration (shared/sample) and the manifests", () => {
    // Services started without ROUTING_APPLICATION_FILE use the built-in declaration; k8s ships no other.
    const application = sampleApplication(NAMESPACE);

    it('declares each workload as the dev overlay deploys it: baseline, polled queues, consumer groups', () => {
      const dev = kustomization('k8s/overlays/dev');
      for (const workload of application.workloads) {
        const { kind, namespace, name } = workload.baseline;
        assert.equal(kind, 'Deployment', `${workload.name}: baseline kind`);
        const { obj, main } = deployment(dev, name);
        assert.equal(obj.metadata.namespace, namespace, `${workload.name}: namespace`);
        const env = envOf(main);
        const baselineName = env.get('SIGNADOT_BASELINE_NAME')?.value;
        if (baselineName !== undefined) assert.equal(baselineName, name, `${name}: SIGNADOT_BASELINE_NAME`);
        // The queue a worker polls (the ingress only starts workflows on `orders`: not its queue).
        const polled = { worker: 'TEMPORAL_TASK_QUEUE', payments: 'PAYMENTS_TASK_QUEUE' }[name];
        const queues = polled ? [env.get(polled)?.value] : [];
        assert.deepEqual(queues, [...workload.taskQueues], `${name}: task queues`);
        const group = env.get('KAFKA_CONSUMER_GROUP')?.value;
        const consumers = group ? [{ topic: env.get('KAFKA_TOPIC')?.value, group }] : [];
        assert.deepEqual(consumers, [...workload.consumers], `${name}: consumers`);
      }
    });

    it('every variable a service Deployment sets is a setting of that service (k8s/overlays/dev)', () => {
      const dev = kustomization('k8s/overlays/dev');
      // NODE_ENV is read by Node and libraries, not by the service's config.
      const runtime = new Set(['NODE_ENV']);
      for (const svc of SERVICES) {
        const settings = settingsOf(svc.name);
        const unknown = [...envOf(deployment(dev, svc.name).main).keys()].filter(
          (name) => !settings.has(name) && !runtime.has(name),
        );
        assert.deepEqual(unknown, [], `${svc.name} sets variables it does not read`);
      }
    });

    it('declares every Deployment built from this repository but the console (it neither polls nor consumes)', () => {
      const dev = kustomization('k8s/overlays/dev');
      const ours = objectsOf(dev, 'Deployment')
        .filter((d) =>
          podTemplate(d)?.spec.containers.some((c) => imageName(c.image).startsWith('sandbox-routing/')),
        )
        .map((d) => d.metadata.name)
        .filter((name) => name !== 'console')
        .sort();
      assert.deepEqual(ours, application.workloads.map((w) => w.baseline.name).sort());
    });
  });

  describe('in-cluster dependencies (k8s/overlays/dev)', () => {
    it('runs Kafka as three combined broker+controller KRaft nodes with the topics created by a Job', () => {
      const k = kustomization('k8s/overlays/dev');
      const { obj: kafka, main: c } = workloadOf(k, 'StatefulSet', 'kafka');
      assert.equal(kafka.spec.replicas, 3);
      assert.match(c.image, /^apache\/kafka:/);
      assert.equal(envOf(c).get('KAFKA_PROCESS_ROLES')?.value, 'broker,controller');
      const voters = envOf(c).get('KAFKA_CONTROLLER_QUORUM_VOTERS')?.value ?? '';
      assert.equal(voters.split(',').length, 3);
      const topicsJob = workloadOf(k, 'Job', 'kafka-topics').main;
      const script = (topicsJob.args ?? []).join('\n');
      for (const topic of ['events', 'events.dead-letter', 'events.results']) {
        assert.match(
          script,
          new RegExp(`--topic ${topic.replace('.', '\\.')} `),
          `topic ${topic} is created`,
        );
      }
      const jobEnv = envOf(topicsJob);
      assert.equal(jobEnv.get('EVENTS_PARTITIONS')?.value, '3');
      // A dead-letter copy is the original plus reason headers: the dead-letter topic must take more.
      const eventsMax = Number(jobEnv.get('EVENTS_MAX_MESSAGE_BYTES')?.value);
      const deadLetterMax = Number(jobEnv.get('DEAD_LETTER_MAX_MESSAGE_BYTES')?.value);
      assert.ok(
        eventsMax > 0 && deadLetterMax > eventsMax,
        `dead-letter ${deadLetterMax} > events ${eventsMax}`,
      );
      assert.match(script, /--topic events \\[\s\S]*?max\.message\.bytes="\$EVENTS_MAX_MESSAGE_BYTES"/);
      assert.match(
        script,
        /--topic events\.dead-letter [\s\S]*?max\.message\.bytes="\$DEAD_LETTER_MAX_MESSAGE_BYTES"/,
      );
      // Sandbox topics the baseline ingress creates are replicated like the others, and can be.
      const ingressEnv = envOf(deployment(k, 'ingress').main);
      const replication = ingressEnv.get('INGRESS_SANDBOX_TOPIC_REPLICATION_FACTOR')?.value;
      assert.equal(replication, jobEnv.get('REPLICATION_FACTOR')?.value);
      assert.ok(Number(replication) <= (kafka.spec.replicas as number), 'not more replicas than brokers');
      assert.match(
        ingressEnv.get('INGRESS_SANDBOX_TOPIC_CONFIG')?.value ?? '',
        new RegExp(`max\\.message\\.bytes=${eventsMax}\\b`),
        'sandbox topics take what the events topic takes',
      );
    });

    it('runs Temporal on PostgreSQL with the UI and a Job creating the Signadot search attributes', () => {
      const k = kustomization('k8s/overlays/dev');
      assert.equal(envOf(workloadOf(k, 'Deployment', 'temporal').main).get('DB')?.value, 'postgres12');
      assert.ok(findObject(k, 'StatefulSet', 'temporal-postgres'));
      assert.ok(findObject(k, 'Deployment', 'temporal-ui'));
      const script = (workloadOf(k, 'Job', 'temporal-setup').main.args ?? []).join('\n');
      assert.match(script, /for sa in SignadotRoutingKey SignadotSandbox/);
      assert.match(script, /--type Keyword/);
      assert.match(script, /namespace create/);
    });

    it('leaves Temporal out of the managed overlays, and Kafka out of k8s/overlays/managed', () => {
      for (const overlay of SERVICE_OVERLAYS.filter((o) => !o.inClusterTemporal)) {
        const k = kustomization(overlay.dir);
        assert.equal(findObject(k, 'Deployment', 'temporal'), undefined);
        assert.equal(findObject(k, 'StatefulSet', 'temporal-postgres'), undefined);
        assert.equal(
          findObject(k, 'StatefulSet', 'kafka') === undefined,
          !overlay.inClusterKafka,
          overlay.dir,
        );
      }
    });
  });

  describe('producer Job (k8s/overlays/dev-producer)', () => {
    it('publishes 10 events with the routing key from ROUTING_KEY', () => {
      const k = kustomization('k8s/overlays/dev-producer');
      const c = workloadOf(k, 'Job', 'producer').main;
      assert.deepEqual(c.command, [
        ...nodeCommand('producer', 'cli.js', 'publish'),
        '--routing-key',
        '$(ROUTING_KEY)',
        '--count',
        '10',
      ]);
      assert.equal(c.workingDir, '/app');
      const env = envOf(c);
      assert.equal(
        env.get('ROUTING_KEY')?.value ?? '',
        '',
        'ROUTING_KEY defaults to empty (baseline traffic)',
      );
      assert.ok(isHostPort(env.get('KAFKA_BROKERS')?.value ?? ''));
      assert.equal(imageName(c.image), 'sandbox-routing/producer');
    });
  });

  describe('container images', () => {
    it('the Dockerfile has producer, ingress, worker and notifier targets on node:26-bookworm-slim as user node', () => {
      const stages = dockerfile();
      for (const target of ['producer', 'ingress', 'worker', 'notifier']) {
        assert.ok(
          stages.some((s) => s.target === target),
          `Dockerfile has no "FROM ... AS ${target}"`,
        );
        assert.equal(
          baseImage(stages, target),
          'node:26-bookworm-slim',
          `${target} rests on node:26-bookworm-slim`,
        );
        assert.equal(stageUser(stages, target), 'node', `${target} runs as node`);
      }
      const build = stages.find((s) => s.target === 'build');
      assert.ok(build, 'a build stage');
      assert.ok(build.lines.some((l) => /^RUN .*npm ci/.test(l)));
      assert.ok(build.lines.some((l) => /^RUN .*npx tsc -b/.test(l)));
      assert.ok(!stages.some((s) => /alpine/.test(s.from)), 'no Alpine stage (core-bridge needs glibc)');
    });

    it('every image built here is a Dockerfile target, and every target is deployed', () => {
      const stages = dockerfile();
      const targets = new Set(stages.map((s) => s.target).filter((t): t is string => t !== undefined));
      const used = new Set<string>();
      for (const k of repoValidation().report.kustomizations) {
        for (const o of k.objects ?? []) {
          const tmpl = podTemplate(o);
          for (const c of [...(tmpl?.spec.containers ?? []), ...(tmpl?.spec.initContainers ?? [])]) {
            const name = imageName(c.image);
            if (!name.startsWith('sandbox-routing/')) continue;
            const target = name.slice('sandbox-routing/'.length);
            assert.ok(targets.has(target), `${k.dir}: image ${c.image} has no Dockerfile target "${target}"`);
            used.add(target);
          }
        }
      }
      assert.deepEqual([...used].sort(), ['ingress', 'notifier', 'payments', 'producer', 'worker']);
    });

    it("each service image's default command is the one the manifests run", () => {
      const stages = dockerfile();
      const dev = kustomization('k8s/overlays/dev');
      for (const svc of SERVICES.map((s) => s.name)) {
        assert.deepEqual(stageCommand(stages, svc), deployment(dev, svc).main.command, svc);
      }
      const producer = podTemplate(
        findObject(kustomization('k8s/overlays/dev-producer'), 'Job', 'producer') as K8sObject,
      )?.spec.containers[0]?.command;
      const entrypoint = stageCommand(stages, 'producer') ?? [];
      assert.deepEqual(producer?.slice(0, entrypoint.length), entrypoint);
    });

    it('.dockerignore keeps local builds and state out of the context', () => {
      const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'));
      for (const entry of ['node_modules', 'dist', '.stack', '.tools', '.git', 'logs']) {
        assert.ok(
          ignored.some((l) => l === entry || l === `**/${entry}`),
          `.dockerignore lists ${entry}`,
        );
      }
    });
  });

  describe('signadot specs', () => {
    // Strict mode: a schema with unknown keywords or loose types fails to compile (inside a test).
    const ajv = new Ajv({ allErrors: true, strict: true });
    const compiled = new Map<SignadotKind, ValidateFunction>();
    const schema = (kind: SignadotKind): ValidateFunction => {
      let fn = compiled.get(kind);
      if (!fn) {
        const file = path.join(ROOT, 'k8s', 'signadot', 'schema', `${kind}.schema.json`);
        fn = ajv.compile(JSON.parse(readFileSync(file, 'utf8')));
        compiled.set(kind, fn);
      }
      return fn;
    };
    const files = signadotFiles();
    const expanded = (f: (typeof files)[number]) =>
      expandSpec(f.text, Object.fromEntries(f.vars.map((v) => [v, sampleValue(v)])));
    const sandboxes = () =>
      files
        .filter((f) => f.kind === 'sandbox')
        .map((f) => ({ file: f.file, spec: expanded(f) as SandboxSpec }));

    it('has the sandboxes, the CI template and the RouteGroup', () => {
      const names = files.map((f) => f.file);
      for (const expected of [
        'k8s/signadot/sandboxes/worker.yaml',
        'k8s/signadot/sandboxes/worker-and-ingress.yaml',
        'k8s/signadot/sandboxes/payments.yaml',
        'k8s/signadot/sandboxes/notifier.yaml',
        'k8s/signadot/local/worker.yaml',
        'k8s/signadot/routegroups/orders-v2.yaml',
        'k8s/signadot/routegroups/checkout-v2.yaml',
        'k8s/signadot/templates/worker-pr.yaml',
      ]) {
        assert.ok(names.includes(expected), `missing ${expected}`);
      }
      const template = files.find((f) => f.file === 'k8s/signadot/templates/worker-pr.yaml');
      assert.deepEqual(template?.vars, ['cluster', 'commit', 'image', 'pr']);
    });

    for (const f of files) {
      it(`${f.file} validates against the ${f.kind} schema after template expansion`, () => {
        assert.deepEqual(f.badPlaceholders, [], 'placeholders the signadot CLI would not expand');
        const doc = expanded(f);
        const validate = schema(f.kind);
        const ok = validate(doc);
        assert.ok(ok, `${f.file}: ${ajv.errorsText(validate.errors, { separator: '\n  ' })}`);
        const endpoints = [
          ...((doc as SandboxSpec).spec.defaultRouteGroup?.endpoints ?? []),
          ...((doc as RouteGroupSpec).spec.endpoints ?? []),
        ].map((e) => e.name);
        assert.equal(new Set(endpoints).size, endpoints.length, 'endpoint names are unique');
      });
    }

    it('sandbox names are unique', () => {
      const names = sandboxes().map((s) => s.spec.name);
      assert.equal(new Set(names).size, names.length);
    });

    it('forks refer to Deployments (and their containers) that the dev overlay deploys', () => {
      const dev = kustomization('k8s/overlays/dev');
      for (const { file, spec } of sandboxes()) {
        const seen = new Set<string>();
        for (const fork of spec.spec.forks ?? []) {
          const { kind, namespace, name } = fork.forkOf;
          const id = `${kind}/${namespace}/${name}`;
          assert.ok(!seen.has(id), `${file}: ${id} forked twice`);
          seen.add(id);
          assert.equal(kind, 'Deployment', `${file}: forkOf.kind`);
          assert.equal(namespace, NAMESPACE, `${file}: forkOf.namespace`);
          const target = findObject(dev, 'Deployment', name);
          assert.ok(target, `${file}: no Deployment ${name} in k8s/overlays/dev`);
          assert.equal(target.metadata.namespace, namespace);
          const containers = new Set(podTemplate(target)?.spec.containers.map((c) => c.name));
          for (const c of [...(fork.customizations?.images ?? []), ...(fork.customizations?.env ?? [])]) {
            if (c.container !== undefined) {
              assert.ok(containers.has(c.container), `${file}: ${name} has no container ${c.container}`);
            }
          }
        }
        // Signadot: a baseline appears at most once across forks[].forkOf and local[].from.
        for (const local of spec.spec.local ?? []) {
          const { kind, namespace, name } = local.from;
          const id = `${kind}/${namespace}/${name}`;
          assert.ok(!seen.has(id), `${file}: ${id} forked twice`);
          seen.add(id);
          assert.equal(namespace, NAMESPACE, `${file}: local.from.namespace`);
          assert.ok(findObject(dev, kind, name), `${file}: no ${kind} ${name} in k8s/overlays/dev`);
        }
      }
    });

    it('the env a fork sets is a setting of the forked service', () => {
      for (const { file, spec } of sandboxes()) {
        for (const fork of spec.spec.forks ?? []) {
          const settings = settingsOf(fork.forkOf.name as ServiceExpectation['name']);
          for (const { name } of fork.customizations?.env ?? []) {
            assert.ok(settings.has(name), `${file}: ${fork.forkOf.name} has no setting ${name}`);
          }
        }
      }
    });

    it("payments' fork loads its settings in the Python service's own config and polls payments@<sandbox>", () => {
      const dev = kustomization('k8s/overlays/dev');
      const spec = sandboxes().find((x) => x.file.endsWith('sandboxes/payments.yaml'))?.spec;
      assert.ok(spec);
      // What the fork runs with: the baseline's env, the spec's customizations, the injected sandbox name.
      const env: Record<string, string> = {};
      for (const e of envOf(deployment(dev, 'payments').main).values()) {
        if (e.value !== undefined) env[e.name] = e.value;
      }
      for (const e of spec.spec.forks?.[0]?.customizations?.env ?? []) env[e.name] = e.value ?? '';
      env.SIGNADOT_SANDBOX_NAME = spec.name;
      const python = path.join(ROOT, '.tools', 'python', 'bin', 'python');
      assert.ok(existsSync(python), `${python} is missing: run dev/bin/setup.sh`);
      const script =
        'import json, sys\nfrom payments.config import load_settings\n' +
        's = load_settings(json.loads(sys.stdin.read()))\n' +
        'print(json.dumps({"queue": s.polled_task_queue, "variant": s.variant, "port": s.http_port}))';
      const run = spawnSync(python, ['-c', script], {
        cwd: path.join(ROOT, 'payments'),
        input: JSON.stringify(env),
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), { queue: `payments@${spec.name}`, variant: 'v2', port: 8083 });
    });

    it('the forks of one workload each: payments only, the notifier only', () => {
      const forked = (name: string) =>
        sandboxes()
          .filter((s) => s.spec.spec.forks?.length === 1 && s.spec.spec.forks[0]?.forkOf.name === name)
          .map((s) => s.file);
      assert.deepEqual(forked('payments'), ['k8s/signadot/sandboxes/payments.yaml']);
      assert.deepEqual(forked('notifier'), ['k8s/signadot/sandboxes/notifier.yaml']);
      // The payments fork needs no settings of its own: SIGNADOT_SANDBOX_NAME (injected) and the
      // inherited PAYMENTS_TASK_QUEUE make its queue.
      const payments = sandboxes().find((s) => s.file.endsWith('sandboxes/payments.yaml'));
      const env = payments?.spec.spec.forks?.[0]?.customizations?.env ?? [];
      assert.ok(!env.some((e) => e.name === 'SIGNADOT_SANDBOX_NAME' || e.name === 'PAYMENTS_TASK_QUEUE'));
    });

    it('fork images are a template variable or an image of the forked service', () => {
      for (const f of files.filter((x) => x.kind === 'sandbox')) {
        const raw = parseYaml(f.text) as SandboxSpec;
        for (const fork of raw.spec.forks ?? []) {
          for (const { image } of fork.customizations?.images ?? []) {
            if (/^@\{[a-zA-Z][a-zA-Z0-9_.-]*\}$/.test(image)) continue;
            assert.equal(
              imageName(image),
              `sandbox-routing/${fork.forkOf.name}`,
              `${f.file}: image of ${fork.forkOf.name}`,
            );
          }
        }
      }
    });

    it('endpoint targets are Services and ports of the dev overlay', () => {
      const dev = kustomization('k8s/overlays/dev');
      for (const f of files) {
        const doc = expanded(f) as SandboxSpec & RouteGroupSpec;
        const targets = [...(doc.spec.defaultRouteGroup?.endpoints ?? []), ...(doc.spec.endpoints ?? [])];
        for (const { target } of targets) {
          const t = parseServiceTarget(target);
          assert.ok(t, `${f.file}: ${target} is not http://<service>.<namespace>.svc:<port>`);
          assert.equal(t.namespace, NAMESPACE);
          const svc = findObject(dev, 'Service', t.service);
          assert.ok(svc, `${f.file}: no Service ${t.service}`);
          assert.ok(
            ((svc.spec?.ports ?? []) as { port: number }[]).some((p) => p.port === t.port),
            `${f.file}: Service ${t.service} has no port ${t.port}`,
          );
        }
      }
    });

    it('each RouteGroup matches sandboxes that together fork each workload at most once', () => {
      const all = sandboxes();
      for (const f of files.filter((x) => x.kind === 'routegroup')) {
        const rg = expanded(f) as RouteGroupSpec;
        const members = all.filter((s) => routeGroupMatches(rg.spec.match, s.spec.spec.labels ?? {}));
        assert.ok(members.length >= 2, `${f.file} should group several sandboxes, matches ${members.length}`);
        const forks = members.flatMap((m) => (m.spec.spec.forks ?? []).map((x) => x.forkOf.name));
        assert.equal(new Set(forks).size, forks.length, `${f.file}: member sandboxes fork the same workload`);
      }
    });

    describe('the local workload (k8s/signadot/local/worker.yaml, docs/local-fork.md)', () => {
      const file = 'k8s/signadot/local/worker.yaml';
      const local = () => {
        const found = sandboxes().find((s) => s.file === file);
        assert.ok(found, `missing ${file}`);
        assert.equal(found.spec.spec.forks, undefined, 'a local sandbox forks nothing in the cluster');
        assert.equal(found.spec.spec.local?.length, 1);
        return {
          spec: found.spec,
          workload: found.spec.spec.local?.[0] as NonNullable<SandboxSpec['spec']['local']>[0],
        };
      };

      it('stands in for a Deployment of k8s/base, mapping only ports its container serves to this machine', () => {
        const { workload } = local();
        const { kind, namespace, name } = workload.from;
        assert.equal(kind, 'Deployment');
        assert.equal(namespace, NAMESPACE);
        const base = kustomization('k8s/base');
        const { main } = workloadOf(base, 'Deployment', name);
        const served = new Set((main.ports ?? []).map((p) => p.containerPort));
        for (const { port, toLocal } of workload.mappings) {
          assert.ok(served.has(port), `${file}: ${name} serves no port ${port}`);
          assert.match(toLocal, /^(localhost|127\.0\.0\.1):\d+$/, `${file}: ${toLocal} is on this machine`);
        }
      });

      it('sets only settings of the service, with cluster addresses a workstation can resolve', () => {
        const { workload } = local();
        const settings = new Set(describeConfig(workerSchema).map((row) => row.env));
        const dev = kustomization('k8s/overlays/dev');
        for (const { name, value } of workload.env ?? []) {
          assert.ok(settings.has(name), `${file}: the worker has no setting ${name}`);
          assert.notEqual(name, 'SIGNADOT_SANDBOX_NAME', 'Signadot sets it (get-env), from the sandbox');
          if (name === 'TEMPORAL_ADDRESS' || name === 'KAFKA_BROKERS') {
            // <service>.<namespace>.svc:<port>, a Service and port of the dev overlay.
            const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc:(\d+)$/.exec(value ?? '');
            assert.ok(m, `${file}: ${name}=${value} is not <service>.<namespace>.svc:<port>`);
            assert.equal(m[2], NAMESPACE);
            const svc = findObject(dev, 'Service', m[1] ?? '');
            assert.ok(svc, `${file}: no Service ${m[1]}`);
            const ports = (svc.spec?.ports ?? []) as { port: number }[];
            assert.ok(
              ports.some((p) => p.port === Number(m[3])),
              `${file}: Service ${m[1]} has no port ${m[3]}`,
            );
          }
        }
        assert.equal(
          workload.env?.find((e) => e.name === 'SIGNADOT_BASELINE_NAMESPACE')?.value,
          NAMESPACE,
          'the downward-API value of the baseline, spelled out',
        );
      });

      it("runs as the sandbox's worker with the baseline's environment and the spec's on top", () => {
        const { spec, workload } = local();
        const dev = kustomization('k8s/overlays/dev');
        const env: NodeJS.ProcessEnv = {};
        for (const e of envOf(deployment(dev, workload.from.name).main).values()) {
          if (e.value !== undefined) env[e.name] = e.value;
        }
        for (const e of workload.env ?? []) env[e.name] = e.value;
        env.SIGNADOT_SANDBOX_NAME = spec.name; // what `signadot sandbox get-env` adds
        const config = loadWorkerConfig({ env, file: '' });
        assert.equal(config.signadot.sandboxName, spec.name);
        assert.equal(config.signadot.baselineName, workload.from.name);
        assert.equal(config.signadot.baselineNamespace, workload.from.namespace);
        assert.equal(sandboxTaskQueue(config.temporal.taskQueue, spec.name), `orders@${spec.name}`);
        // The application declaration it loads declares it as it runs (else the worker refuses to start).
        assert.ok(workerApplication(config).ofBaseline(workload.from));
      });

      it('the steps of docs/local-fork.md use the spec, its sandbox name and a valid routing key', () => {
        const { spec } = local();
        const doc = readFileSync(path.join(ROOT, 'docs/local-fork.md'), 'utf8');
        assert.ok(doc.includes(`signadot sandbox apply -f ${file} --set cluster=<cluster> --set user=jane`));
        for (const step of [
          'signadot local connect',
          'signadot local disconnect',
          'signadot sandbox get-env',
        ]) {
          assert.ok(doc.includes(step), `docs/local-fork.md shows ${step}`);
        }
        // Every sandbox name the page uses is the spec's, expanded with user=jane.
        const names = new Set([...doc.matchAll(/\blocal-worker-[a-z0-9-]+/g)].map((m) => m[0]));
        assert.deepEqual([...names], [spec.name]);
        // The key comes from Signadot and is passed as the producer's --routing-key; a key of that
        // format (Signadot's: lower-case letters and digits) is one the library accepts.
        assert.match(doc, /KEY=\$\(signadot sandbox get local-worker-jane -o json \| jq -r \.routingKey\)/);
        assert.match(doc, /publish --routing-key "\$KEY"/);
        const example = /routing key, Signadot's short lower-case name such as `([^`]+)`/.exec(doc)?.[1];
        assert.ok(example && isValidRoutingKey(example), `the example key ${example} is a valid routing key`);
      });
    });

    it('the schemas reject specs the signadot CLI or API would not accept', () => {
      const good = expanded(
        files.find((f) => f.file.endsWith('sandboxes/worker.yaml')) as (typeof files)[number],
      );
      const variant = (mutate: (doc: SandboxSpec & Record<string, unknown>) => void) => {
        const copy = structuredClone(good) as SandboxSpec & Record<string, unknown>;
        mutate(copy);
        return schema('sandbox')(copy);
      };
      assert.equal(
        variant(() => {}),
        true,
      );
      const rejected: [string, (d: SandboxSpec & Record<string, unknown>) => void][] = [
        ['a name over 30 characters', (d) => (d.name = 'a-name-that-is-much-longer-than-30')],
        ['a name starting with a digit', (d) => (d.name = '1starts-with-digit')],
        ['no cluster', (d) => Reflect.deleteProperty(d.spec, 'cluster')],
        [
          'a fork of a StatefulSet',
          (d) => {
            const fork = d.spec.forks?.[0];
            if (fork) fork.forkOf.kind = 'StatefulSet';
          },
        ],
        ['another apiVersion', (d) => (d.apiVersion = 'signadot.com/v1')],
        [
          'an unexpanded placeholder is not an image',
          (d) => {
            const img = d.spec.forks?.[0]?.customizations?.images?.[0];
            if (img) img.image = '@{image}';
          },
        ],
      ];
      for (const [what, mutate] of rejected) assert.equal(variant(mutate), false, what);
      assert.equal(
        schema('routegroup')({
          name: 'rg',
          spec: { cluster: 'c', match: { label: { key: 'k', value: 'v' }, any: [] } },
        }),
        false,
        'match takes exactly one of label/any/all',
      );
    });
  });
});
