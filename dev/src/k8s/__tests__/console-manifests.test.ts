import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  envOf,
  expandSpec,
  findObject,
  imageName,
  kustomization,
  nodeCommand,
  parseServiceTarget,
  REPO_ROOT,
  type RouteGroupSpec,
  type SandboxSpec,
  sampleValue,
  secretFile,
  signadotFiles,
  workloadOf,
} from '../manifests';

/** The console's Deployment and Service, and its preview-URL endpoint in the Signadot specs. */
const CONSOLE_PORT = (() => {
  const source = readFileSync(path.join(REPO_ROOT, 'producer/src/console/config.ts'), 'utf8');
  const match = /default: (\d+),\s*env: 'CONSOLE_PORT'/.exec(source);
  assert.ok(match, 'the CONSOLE_PORT default in producer/src/console/config.ts');
  return Number(match[1]);
})();

describe('console manifests', () => {
  for (const overlay of ['k8s/overlays/dev', 'k8s/overlays/managed-temporal', 'k8s/overlays/managed']) {
    it(`${overlay}: runs \`producer console\` from the producer image, on all interfaces, probed on its port`, () => {
      const k = kustomization(overlay);
      const { main } = workloadOf(k, 'Deployment', 'console');
      assert.deepEqual(main.command, nodeCommand('producer', 'cli.js', 'console'));
      assert.equal(imageName(main.image), 'sandbox-routing/producer');
      const env = envOf(main);
      const value = (name: string) => env.get(name)?.value;
      assert.equal(value('CONSOLE_HOST'), '0.0.0.0');
      assert.equal(value('CONSOLE_PORT'), String(CONSOLE_PORT));
      assert.deepEqual(
        main.ports?.map((p) => [p.name, p.containerPort]),
        [['http', CONSOLE_PORT]],
      );
      assert.equal(main.readinessProbe?.httpGet?.path, '/readyz');
      assert.equal(main.livenessProbe?.httpGet?.path, '/healthz');
      assert.equal(value('KAFKA_RESULTS_TOPIC'), 'events.results');
      assert.equal(value('SIGNADOT_ROUTESERVER_URL'), 'http://routeserver.signadot.svc:7778');
      assert.deepEqual(env.get('SIGNADOT_BASELINE_NAMESPACE')?.valueFrom, {
        fieldRef: { fieldPath: 'metadata.namespace' },
      });
      // The baselines whose rules it lists are the Deployments of the same render.
      for (const name of ['WORKER_BASELINE_NAME', 'INGRESS_BASELINE_NAME']) {
        assert.ok(findObject(k, 'Deployment', value(name) ?? ''), `${name} names a Deployment`);
      }
      if (overlay.includes('managed')) assert.equal(value('TEMPORAL_TLS'), 'true');
      // Bound to 0.0.0.0 it asks for a token: read from a Secret (issue 21's CONSOLE_TOKEN_FILE), and it
      // answers Signadot's preview host names.
      const { tmpl } = workloadOf(k, 'Deployment', 'console');
      assert.ok(!env.has('CONSOLE_TOKEN'), 'the token is not in the manifest');
      assert.deepEqual(secretFile(tmpl, main, value('CONSOLE_TOKEN_FILE') ?? ''), {
        secret: 'console-token',
        key: 'token',
      });
      assert.ok(
        (value('CONSOLE_ALLOWED_HOSTS') ?? '').split(',').includes('*.preview.signadot.com'),
        'CONSOLE_ALLOWED_HOSTS lists the preview host names',
      );
      assert.equal(main.securityContext?.readOnlyRootFilesystem, true);
      const service = findObject(k, 'Service', 'console');
      assert.ok(service);
      assert.ok((service.spec.ports as { port: number }[]).some((p) => p.port === CONSOLE_PORT));
    });
  }

  it('every Signadot spec of the worker or ingress offers the console as a preview-URL endpoint', () => {
    const k = kustomization('k8s/overlays/dev');
    // Sandboxes and RouteGroups have preview URLs; job runner groups and jobs do not.
    const specs = signadotFiles()
      .filter((f) => f.kind === 'sandbox' || f.kind === 'routegroup')
      .map((f) => ({
        file: f.file,
        kind: f.kind,
        doc: expandSpec(f.text, Object.fromEntries(f.vars.map((v) => [v, sampleValue(v)]))),
      }));
    assert.ok(specs.length >= 4);
    for (const { file, kind, doc } of specs) {
      const endpoints =
        kind === 'routegroup'
          ? (doc as RouteGroupSpec).spec.endpoints
          : (doc as SandboxSpec).spec.defaultRouteGroup?.endpoints;
      const endpoint = endpoints?.find((e) => e.name === 'console');
      assert.ok(endpoint, `${file}: no console endpoint`);
      const target = parseServiceTarget(endpoint.target);
      assert.deepEqual(
        target,
        { service: 'console', namespace: 'sandbox-routing', port: CONSOLE_PORT },
        file,
      );
      assert.ok(findObject(k, 'Service', target.service), `${file}: Service ${target.service} is deployed`);
    }
  });
});
