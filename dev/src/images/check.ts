/**
 * The image check (`npm run check:images`, run by .ci/run): builds each image of the Dockerfile into a
 * directory the way Docker would (assemble.ts carries out its COPY and RUN lines; there is no container
 * engine here), then, from those trees alone, as the image's user with the tree read-only:
 *
 * - every workspace of an image resolves each of its dependencies to the same copy as in the tested
 *   checkout, and every runtime file of the deployed workspaces is there;
 * - every command of an image answers `--help` (a program the list in images.ts lacks fails the check);
 * - against the local stack: the ingress, a baseline worker and a sandbox's worker (both from the
 *   workflow bundle built in the image) reach /readyz, the producer publishes, an event without a key
 *   runs on the baseline and a keyed one on the sandbox, and the worker image's teardown command lists
 *   (and terminates) a workflow left on the sandbox's queue.
 *
 * It prints each image's size. Every process it starts is stopped by its PID; every step has a deadline.
 * Env: IMAGE_CHECK_DOCKERFILE (another Dockerfile, e.g. an older one), IMAGE_CHECK_KEEP=1 (keep the
 * trees in the temporary folder it prints).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { workflowIdOfEvent } from '@sandbox-routing/shared';
import { pollUntil, runProcess, stackEnv } from '@sandbox-routing/testkit';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Launcher } from '../pipeline/launcher';
import { Pipeline } from '../pipeline/pipeline';
import type { ServiceProcess } from '../pipeline/service-process';
import { REPO_ROOT, STACK_DIR } from '../stack/paths';
import { type AssembledImage, assembleImages } from './assemble';
import { assetMismatch, deployedWorkspaces, entryPoints, runtimeAssets } from './contents';
import { closureDifferences, dependencyClosure } from './dependencies';
import { defaultCommand, nodeCommand } from './dockerfile';
import { ImageRuntime, removeScratch } from './image-user';
import { IMAGE_COMMANDS } from './images';

const DOCKERFILE = process.env.IMAGE_CHECK_DOCKERFILE ?? path.join(REPO_ROOT, 'Dockerfile');
const KEEP = process.env.IMAGE_CHECK_KEEP === '1';
const id = randomUUID().slice(0, 6);
const SANDBOX = { name: `img-${id}`, key: `ki${id}images` };
const started = Date.now();

/** Apparent size of a tree in bytes (what its layers hold), symlinks counted as links. */
function treeBytes(p: string): number {
  if (!existsSync(p)) return 0;
  const stat = lstatSync(p);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(p).reduce((sum, entry) => sum + treeBytes(path.join(p, entry)), 0);
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

describe('container images, assembled from the Dockerfile without a container engine', () => {
  let scratch = '';
  const images = new Map<string, AssembledImage>();
  const runtimes = new Map<string, ImageRuntime>();
  const runtime = (target: string): ImageRuntime => {
    const found = runtimes.get(target);
    assert.ok(found, `no ${target} image`);
    return found;
  };

  before(
    async () => {
      scratch = mkdtempSync(path.join(os.tmpdir(), 'image-check-'));
      console.log(`assembling the images of ${path.relative(REPO_ROOT, DOCKERFILE)} in ${scratch}`);
      const assembled = await assembleImages({
        dockerfile: DOCKERFILE,
        context: REPO_ROOT,
        workDir: scratch,
        log: (line) => console.log(`  ${line}`),
      });
      for (const [target, image] of [...assembled].sort(([a], [b]) => a.localeCompare(b))) {
        images.set(target, image);
        const run = new ImageRuntime(image, scratch);
        run.prepare();
        runtimes.set(target, run);
      }
      const user = [...runtimes.values()][0];
      console.log(
        user?.switchesUser
          ? `  programs run as uid ${user.user.uid} (setpriv); the trees belong to root`
          : '  programs run as this user; the trees are made read-only (chmod a-w)',
      );
    },
    { timeout: 25 * 60_000 },
  );

  after(() => {
    const rows = [...images.values()].map((image) => {
      const total = treeBytes(image.root);
      const modules = treeBytes(`${image.workdir}/node_modules`);
      return `  ${image.target.padEnd(9)} ${mib(total).padStart(10)}  (node_modules ${mib(modules)}, the rest ${mib(total - modules)})`;
    });
    console.log(`runtime trees (files the image adds to its base image):\n${rows.join('\n')}`);
    if (KEEP) console.log(`kept ${scratch}`);
    else if (scratch) removeScratch(scratch);
    console.log(`image check took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });

  it('the images are the ones this check knows (images.ts lists the commands of each)', () => {
    assert.deepEqual([...images.keys()].sort(), Object.keys(IMAGE_COMMANDS).sort());
  });

  it('every workspace of an image resolves each dependency to the copy it was tested with', () => {
    const problems: string[] = [];
    for (const image of images.values()) {
      for (const workspace of deployedWorkspaces(REPO_ROOT, image.workdir)) {
        const tested = dependencyClosure(REPO_ROOT, workspace);
        const inImage = dependencyClosure(image.workdir, workspace);
        const differences = closureDifferences(tested, inImage);
        for (const line of differences.slice(0, 10)) problems.push(`${image.target} image, ${line}`);
        if (differences.length > 10) problems.push(`… and ${differences.length - 10} more`);
      }
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  it("every image carries its workspaces' runtime files (package.json, JSON, other assets)", () => {
    const problems: string[] = [];
    for (const image of images.values()) {
      const deployed = deployedWorkspaces(REPO_ROOT, image.workdir);
      assert.ok(deployed.includes('shared'), `${image.target} image deploys shared`);
      for (const workspace of deployed) {
        for (const asset of runtimeAssets(REPO_ROOT, workspace)) {
          const problem = assetMismatch(REPO_ROOT, image.workdir, asset);
          if (problem) problems.push(`${image.target} image: ${problem}`);
        }
      }
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  it('every program in an image is its default command or listed in images.ts, and every listed one is there', () => {
    for (const image of images.values()) {
      const found = deployedWorkspaces(REPO_ROOT, image.workdir).flatMap((ws) =>
        entryPoints(image.workdir, ws),
      );
      const byDefault = nodeCommand(defaultCommand(image.config));
      const expected = new Set(IMAGE_COMMANDS[image.target] ?? []);
      // A service's main module and its --require entry (OpenTelemetry) are what the image runs.
      for (const program of byDefault ? [byDefault.script, ...byDefault.preloads] : []) expected.add(program);
      assert.deepEqual(
        found,
        [...expected].sort(),
        `${image.target} image: programs (top-level modules nothing loads)`,
      );
    }
  });

  it('every command answers --help, and so does an image whose default command is a command', async () => {
    for (const [target, commands] of Object.entries(IMAGE_COMMANDS)) {
      const image = runtime(target);
      const runs = commands.map((command) => ['node', command, '--help']);
      const byDefault = defaultCommand(image.image.config);
      if (commands.includes(nodeCommand(byDefault)?.script ?? '')) runs.push(byDefault);
      for (const argv of runs) {
        const launch = image.command(argv, {});
        const run = await runProcess(launch.command, launch.args, {
          cwd: launch.cwd,
          env: launch.env,
          inheritEnv: false,
          timeoutMs: 30_000,
        });
        assert.equal(run.code, 0, `${target} image: ${argv.join(' ')} exited ${run.code}:\n${run.stderr}`);
        assert.match(run.stdout, /^Usage: /m, `${target} image: ${argv.join(' ')} prints its usage`);
      }
    }
  });

  describe('end to end on the local stack, every program from its image', () => {
    let pipeline: Pipeline;
    let sandboxWorker: ServiceProcess;
    const imageLauncher: Launcher = {
      launch(entry, args, env, preload) {
        const image = [...runtimes.values()].find((r) => hasEntry(r, entry));
        assert.ok(image, `no image carries ${entry}`);
        return image.launch(entry, args, env, preload);
      },
    };
    const hasEntry = (r: ImageRuntime, entry: string) =>
      deployedWorkspaces(REPO_ROOT, r.image.workdir).includes(entry.split('/')[0] ?? '');

    before(
      async () => {
        pipeline = await Pipeline.isolated(
          stackEnv(),
          path.join(STACK_DIR, 'logs', `image-check-${id}`),
          { ROUTESERVER_REFRESH_INTERVAL_MS: '500' },
          imageLauncher,
        );
        await pipeline.registerSandbox(SANDBOX.name, SANDBOX.key, ['worker']);
      },
      { timeout: 60_000 },
    );

    after(async () => {
      await pipeline?.stop();
      await pipeline?.deleteSandbox(SANDBOX.name);
    });

    it('the ingress, a baseline worker and the sandbox worker reach /readyz, the workers from the prebuilt bundle', {
      timeout: 180_000,
    }, async () => {
      // Each start waits for /readyz (and fails early if the process exits).
      const [, baseline, sandbox] = await Promise.all([
        pipeline.startIngress(),
        pipeline.startWorker(),
        pipeline.startWorker(SANDBOX.name),
      ]);
      sandboxWorker = sandbox;
      // The image's worker loads the workflow bundle built in the image instead of bundling at start. Its
      // 'worker started' line follows the state change /readyz reports: it may reach the log a moment later.
      for (const worker of [baseline, sandbox]) {
        await pollUntil(
          () =>
            /"workflowCode":"prebuilt bundle worker\/dist\/bundle\/workflows\.js"/.test(
              readFileSync(worker.logFile, 'utf8'),
            ),
          { description: `${worker.name} to log that it runs the prebuilt bundle`, timeoutMs: 10_000 },
        );
      }
    });

    it('producer publish sends; the event without a key runs on the baseline, the keyed one on the sandbox', {
      timeout: 120_000,
    }, async () => {
      const plain = await pipeline.publish({ idPrefix: `img-plain-${id}` });
      const keyed = await pipeline.publish({ idPrefix: `img-keyed-${id}`, routingKey: SANDBOX.key });
      assert.equal(plain.sent, 1);
      assert.equal(keyed.sent, 1);
      const [baseline, sandbox] = await Promise.all([
        pipeline.outcome(plain.events[0]?.id as string),
        pipeline.outcome(keyed.events[0]?.id as string),
      ]);
      assert.deepEqual(
        { status: baseline.status, ranOn: baseline.ranOn, activities: [...new Set(baseline.activitiesOn)] },
        { status: 'COMPLETED', ranOn: 'baseline', activities: ['baseline'] },
      );
      assert.deepEqual(
        { status: sandbox.status, ranOn: sandbox.ranOn, activities: [...new Set(sandbox.activitiesOn)] },
        { status: 'COMPLETED', ranOn: SANDBOX.name, activities: [SANDBOX.name] },
      );
    });

    it("the worker image's teardown command lists, then terminates, a workflow left on the sandbox's queue", {
      timeout: 120_000,
    }, async () => {
      // The sandbox's worker goes away; an event for it then waits on the sandbox's queue.
      await pipeline.stopService(sandboxWorker);
      const left = await pipeline.publish({ idPrefix: `img-left-${id}`, routingKey: SANDBOX.key });
      const workflowId = workflowIdOfEvent(left.events[0]?.id as string);
      await pollUntil(
        async () => {
          try {
            return (
              (await pipeline.temporal().workflow.getHandle(workflowId).describe()).status.name === 'RUNNING'
            );
          } catch (error) {
            if (error instanceof WorkflowNotFoundError) return false;
            throw error;
          }
        },
        { description: `${workflowId} to be started`, timeoutMs: 60_000 },
      );
      const teardown = async (...args: string[]) => {
        const launch = runtime('worker').command(
          ['node', 'worker/dist/teardown.js', '--sandbox', SANDBOX.name, '--json', ...args],
          { TEMPORAL_ADDRESS: stackEnv().TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE: pipeline.taskQueue },
        );
        const run = await runProcess(launch.command, launch.args, {
          cwd: launch.cwd,
          env: launch.env,
          inheritEnv: false,
          timeoutMs: 30_000,
        });
        assert.equal(run.code, 0, `teardown ${args.join(' ')} exited ${run.code}:\n${run.stderr}`);
        return JSON.parse(run.stdout) as { outcomes: { workflow: { workflowId: string }; status: string }[] };
      };
      // Visibility catches up with the start shortly after it: poll the listing.
      await pollUntil(
        async () => (await teardown()).outcomes.some((o) => o.workflow.workflowId === workflowId),
        { description: `teardown to list ${workflowId}`, timeoutMs: 30_000, intervalMs: 500 },
      );
      const terminated = await teardown('--action', 'terminate', '--workflow-id', workflowId);
      assert.deepEqual(
        terminated.outcomes.map((o) => [o.workflow.workflowId, o.status]),
        [[workflowId, 'terminated']],
      );
    });
  });
});
