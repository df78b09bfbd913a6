import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { load } from '@sandbox-routing/producer';
import { describeConfig } from '@sandbox-routing/service-kit';
import Ajv from 'ajv';
import {
  expandSpec,
  findObject,
  type JobRunnerGroupSpec,
  type JobSpec,
  kustomization,
  type PodSpec,
  type PodTemplate,
  REPO_ROOT,
  sampleValue,
  signadotFiles,
  workloadOf,
} from '../manifests';

/**
 * The Signadot load-test specs (k8s/signadot/jobrunnergroups, k8s/signadot/jobs): what a job runs must
 * be a `producer load` command line the CLI accepts, in pods that reach the pipeline's Kafka and the
 * routeserver with settings `producer load` reads, and it must upload the report it writes. (Each file
 * is validated against its schema in manifests.test.ts.)
 */

const NAMESPACE = 'sandbox-routing';
const files = signadotFiles();
const expanded = <T>(kind: 'job' | 'jobrunnergroup'): { file: string; spec: T }[] =>
  files
    .filter((f) => f.kind === kind)
    .map((f) => ({
      file: f.file,
      spec: expandSpec(f.text, Object.fromEntries(f.vars.map((v) => [v, sampleValue(v)]))) as T,
    }));

/** Shell words of the `producer/dist/cli.js load` line of a job script (continuations joined, quotes removed). */
function loadArgs(script: string, env: Record<string, string>): string[] {
  const joined = script.replace(/\\\n\s*/g, ' ');
  const line = joined.split('\n').find((l) => /producer\/dist\/cli\.js load\b/.test(l));
  assert.ok(line, 'the script runs producer/dist/cli.js load');
  const words = [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? (m[3] as string));
  const expand = (word: string) =>
    word.replace(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g, (_, name: string) => env[name] ?? '');
  return words.slice(words.indexOf('load') + 1).map(expand);
}

describe('Signadot load-test specs', () => {
  const groups = expanded<JobRunnerGroupSpec>('jobrunnergroup');
  const jobs = expanded<JobSpec>('job');

  it('has the load job runner group and the load job', () => {
    assert.deepEqual(
      files.filter((f) => f.kind === 'job' || f.kind === 'jobrunnergroup').map((f) => f.file),
      ['k8s/signadot/jobrunnergroups/load.yaml', 'k8s/signadot/jobs/load.yaml'],
    );
  });

  it("each job runs in a runner group of this repository, against a sandbox's routing context", () => {
    for (const { file, spec } of jobs) {
      assert.ok(
        groups.some((g) => g.spec.name === spec.spec.runnerGroup),
        `${file}: runner group ${spec.spec.runnerGroup}`,
      );
      assert.ok(
        spec.spec.routingContext?.sandbox || spec.spec.routingContext?.routegroup,
        `${file}: routing context`,
      );
    }
  });

  it("the runner group's pods run the producer image in the pipeline's namespace, with producer load's settings", () => {
    const dev = kustomization('k8s/overlays/dev');
    const settings = new Map(describeConfig(load.loadCommandSchema).map((row) => [row.env, row]));
    for (const { file, spec } of groups) {
      assert.equal(spec.spec.namespace, NAMESPACE, `${file}: namespace`);
      const main = spec.spec.podTemplate?.spec.containers.find((c) => c.name === 'main');
      assert.ok(main, `${file}: a container named main`);
      for (const image of [spec.spec.image, main.image]) {
        assert.match(image ?? '', /\/sandbox-routing\/producer:/, `${file}: the producer image`);
      }
      const env = new Map((main.env ?? []).map((e) => [e.name, e.value ?? '']));
      for (const name of env.keys())
        assert.ok(settings.has(name), `${file}: ${name} is not a setting of producer load`);
      const [host, port] = (env.get('KAFKA_BROKERS') ?? '').split(':');
      const kafka = findObject(dev, 'Service', host ?? '');
      assert.ok(kafka, `${file}: KAFKA_BROKERS names no Service of the dev overlay`);
      assert.ok(
        ((kafka.spec?.ports ?? []) as { port: number }[]).some((p) => p.port === Number(port)),
        `${file}: Service ${host} has no port ${port}`,
      );
      assert.equal(env.get('SIGNADOT_ROUTESERVER_URL'), 'http://routeserver.signadot.svc:7778');
      assert.equal(env.get('SIGNADOT_BASELINE_NAMESPACE'), NAMESPACE);
      for (const name of ['WORKER_BASELINE_NAME', 'INGRESS_BASELINE_NAME']) {
        assert.ok(findObject(dev, 'Deployment', env.get(name) ?? ''), `${file}: ${name} is a Deployment`);
      }
    }
  });

  it("the runner group's pods run as locked down as the pods of k8s/base (the producer Job's)", () => {
    const producer = workloadOf(kustomization('k8s/overlays/dev-producer'), 'Job', 'producer');
    const pod = ({
      runAsNonRoot,
      runAsUser,
      runAsGroup,
      seccompProfile,
    }: PodSpec['securityContext'] = {}) => ({
      runAsNonRoot,
      runAsUser,
      runAsGroup,
      seccompProfile,
    });
    for (const { file, spec } of groups) {
      const template = spec.spec.podTemplate as PodTemplate;
      const main = template.spec.containers.find((c) => c.name === 'main');
      assert.deepEqual(pod(template.spec.securityContext), pod(producer.tmpl.spec.securityContext), file);
      assert.deepEqual(
        main?.securityContext,
        producer.main.securityContext,
        `${file}: container securityContext`,
      );
      assert.equal(template.spec.enableServiceLinks, false);
      // A read-only root file system: what the job writes goes to /tmp, an emptyDir.
      const tmp = main?.volumeMounts?.find((m) => m.mountPath === '/tmp');
      assert.ok(tmp && template.spec.volumes?.find((v) => v.name === tmp.name)?.emptyDir, `${file}: /tmp`);
      const job = jobs[0]?.spec.spec;
      for (const artifact of job?.uploadArtifact ?? []) assert.match(artifact.path, /^\/tmp\//);
    }
  });

  it('the job script is a producer load command the CLI accepts, and it uploads what the command writes', () => {
    for (const { file, spec } of jobs) {
      const script = spec.spec.script ?? '';
      const { flags, schedule } = load.parseLoadArgs(
        loadArgs(script, { SIGNADOT_ROUTING_KEY: 'k7x2m9p4q1w8z' }),
      );
      assert.deepEqual(flags.routingKey, ['k7x2m9p4q1w8z'], `${file}: sends the routing context's key`);
      assert.equal(flags.baseline, true, `${file}: and baseline traffic to compare with`);
      assert.equal(schedule.size, 20 * 60, `${file}: --rate and --duration as given`);
      assert.deepEqual(
        flags.threshold.map((t) => t.expression),
        ['p99<2s'],
      );
      const uploaded = (spec.spec.uploadArtifact ?? []).map((a) => a.path);
      assert.deepEqual(uploaded, [flags.report, flags.chart], `${file}: uploads the report and the chart`);
      assert.match(script, /exit \$status/, `${file}: the job fails when the run fails its checks`);
    }
  });

  it('the schemas reject what the CLI would (uploadArtifacts, script and command, long names)', () => {
    const ajv = new Ajv({ allErrors: true, strict: true });
    const schema = (kind: string) =>
      ajv.compile(
        JSON.parse(readFileSync(path.join(REPO_ROOT, 'k8s/signadot/schema', `${kind}.schema.json`), 'utf8')),
      );
    const job = schema('job');
    const good = jobs[0]?.spec as JobSpec;
    const variant = (mutate: (spec: Record<string, unknown>) => void) => {
      const copy = structuredClone(good) as { spec: Record<string, unknown> };
      mutate(copy.spec);
      return job(copy);
    };
    assert.equal(
      variant(() => undefined),
      true,
    );
    assert.equal(
      variant((s) => {
        s.uploadArtifacts = s.uploadArtifact;
        delete s.uploadArtifact;
      }),
      false,
      'the model field is uploadArtifact',
    );
    assert.equal(
      variant((s) => {
        s.command = ['true'];
      }),
      false,
      'script and command exclude each other',
    );
    assert.equal(
      variant((s) => {
        s.script = 'echo no shebang';
      }),
      false,
    );
    const group = schema('jobrunnergroup');
    const goodGroup = groups[0]?.spec as JobRunnerGroupSpec;
    assert.equal(group(goodGroup), true);
    assert.equal(group({ ...goodGroup, name: 'a-job-runner-group-name-over-30' }), false);
    assert.equal(group({ ...goodGroup, name: 'Load' }), false, 'lowercase only');
  });
});
