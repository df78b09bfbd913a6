import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isHostPort } from '@sandbox-routing/shared';
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
  name: 'ingress' | 'worker';
  /** Source of the service's config schema (its HTTP port default is read from it). */
  configSource: string;
  /** Env vars with fixed values beyond the common ones. */
  env: Record<string, string>;
  /** Its container command (a `--require` entry starts OpenTelemetry first). */
  command: string[];
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
    },
    command: nodeCommand('ingress', 'main.js'),
  },
  {
    name: 'worker',
    configSource: 'worker/src/config.ts',
    env: {},
    command: nodeCommand('worker', 'main.js'),
  },
];

/** Overlays that deploy the sandbox-aware services, and whether Temporal runs in-cluster. */
const SERVICE_OVERLAYS = [
  { dir: 'k8s/overlays/dev', inClusterTemporal: true },
  { dir: 'k8s/overlays/managed-temporal', inClusterTemporal: false },
];

/**
 * The HTTP port default of a service, read from its config schema source (`httpSchema({ port: N })`
 * or `routedServiceSchema({ name: '…', port: N })`).
 */
function configuredHttpPort(source: string): number {
  const text = readFileSync(path.join(ROOT, source), 'utf8');
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
          assert.equal(value('SIGNADOT_ROUTESERVER_GRPC_ADDRESS'), ROUTESERVER_GRPC_ADDRESS, 'push updates');
          assert.ok(
            !env.has('SIGNADOT_SANDBOX_NAME'),
            'SIGNADOT_SANDBOX_NAME must not be set: Signadot injects it into forks only',
          );

          const brokers = value('KAFKA_BROKERS') ?? '';
          assert.ok(
            brokers.split(',').every((b) => isHostPort(b.trim())),
            `KAFKA_BROKERS ${brokers} is not a host:port list`,
          );
          assert.ok(isHostPort(value('TEMPORAL_ADDRESS') ?? ''), 'TEMPORAL_ADDRESS is host:port');
          assert.ok((value('TEMPORAL_NAMESPACE') ?? '') !== '');
          if (overlay.inClusterTemporal) assert.equal(value('TEMPORAL_NAMESPACE'), 'default');
          assert.equal(value('TEMPORAL_TASK_QUEUE'), 'orders');
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

          if (!overlay.inClusterTemporal) {
            assert.equal(value('TEMPORAL_TLS'), 'true');
            assert.ok(
              env.get('TEMPORAL_API_KEY')?.valueFrom?.secretKeyRef,
              'TEMPORAL_API_KEY comes from a Secret',
            );
          }
        });

        it(`${svc.name}: addresses point at Services of the same render`, () => {
          const k = kustomization(overlay.dir);
          const env = envOf(deployment(k, svc.name).main);
          const targets = [env.get('KAFKA_BROKERS')?.value ?? ''];
          if (overlay.inClusterTemporal) targets.push(env.get('TEMPORAL_ADDRESS')?.value ?? '');
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

    it('leaves Temporal out of the managed-temporal overlay', () => {
      const k = kustomization('k8s/overlays/managed-temporal');
      assert.equal(findObject(k, 'Deployment', 'temporal'), undefined);
      assert.equal(findObject(k, 'StatefulSet', 'temporal-postgres'), undefined);
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
    it('the Dockerfile has producer, ingress and worker targets on node:20-bookworm-slim as user node', () => {
      const stages = dockerfile();
      for (const target of ['producer', 'ingress', 'worker']) {
        assert.ok(
          stages.some((s) => s.target === target),
          `Dockerfile has no "FROM ... AS ${target}"`,
        );
        assert.equal(
          baseImage(stages, target),
          'node:20-bookworm-slim',
          `${target} rests on node:20-bookworm-slim`,
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
      assert.deepEqual([...used].sort(), ['ingress', 'producer', 'worker']);
    });

    it("each service image's default command is the one the manifests run", () => {
      const stages = dockerfile();
      const dev = kustomization('k8s/overlays/dev');
      for (const svc of ['ingress', 'worker']) {
        assert.deepEqual(stageCommand(stages, svc), deployment(dev, svc).main.command);
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
        'k8s/signadot/routegroups/orders-v2.yaml',
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
      }
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
