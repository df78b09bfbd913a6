/**
 * The image check (`npm run check:images`, run by .ci/run): builds each image of the Dockerfile into a
 * directory the way Docker would (assemble.ts carries out its COPY and RUN lines; there is no container
 * engine here), then, from those trees alone, as the image's user with the tree read-only:
 *
 * - every workspace of an image resolves each of its dependencies to the same copy as in the tested
 *   checkout, and every runtime file of the deployed workspaces is there;
 * - every command of an image answers `--help` (a program the list in images.ts lacks fails the check);
 * - a Python service's image (payments) carries its package as tracked, exactly its pinned packages, and
 *   loads nothing from outside the image but the standard library;
 * - against the local stack: the ingress, a baseline worker and a sandbox's worker (both from the
 *   workflow bundle built in the image) reach /readyz, the producer publishes, an event without a key
 *   runs on the baseline and a keyed one on the sandbox, and the worker image's teardown command lists
 *   (and terminates) a workflow left on the sandbox's queue; the payments service, baseline and fork,
 *   reaches /readyz polling its queue.
 *
 * The programs run with a node of the image's line (the base image's, e.g. 26) when `.ci/run` has
 * downloaded it into .tools/node<line> (node-line.ts), else with this machine's node, which it says.
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
import { workflowIdOfEvent } from '@sandbox-routing/sample';
import { pollUntil, runProcess, stackEnv } from '@sandbox-routing/testkit';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Launcher } from '../pipeline/launcher';
import { Pipeline } from '../pipeline/pipeline';
import type { ServiceProcess } from '../pipeline/service-process';
import { REPO_ROOT, STACK_DIR } from '../stack/paths';
import { type AssembledImage, assembleImages } from './assemble';
import { assetMismatch, deployedWorkspaces, entryPoints, pythonAssets, runtimeAssets } from './contents';
import { closureDifferences, dependencyClosure } from './dependencies';
import { defaultCommand, nodeCommand } from './dockerfile';
import { ImageRuntime, removeScratch } from './image-user';
import { IMAGE_COMMANDS, PYTHON_IMAGES } from './images';
import { type NodeChoice, nodeForImage, nodeLineOf } from './node-line';

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
  const nodes = new Map<string, NodeChoice>();
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
        const node = nodeForImage(REPO_ROOT, image.config.baseImage);
        nodes.set(target, node);
        const run = new ImageRuntime(image, scratch, node.executable);
        run.prepare();
        runtimes.set(target, run);
      }
      for (const [target, node] of nodes) {
        console.log(
          node.fallback
            ? `  ${target}: runs with this machine's Node ${node.version}, not the image's: ${node.fallback}`
            : `  ${target}: runs with Node ${node.version} (${path.relative(REPO_ROOT, node.executable) || node.executable}), the line of ${images.get(target)?.config.baseImage}`,
        );
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

  it("the programs run with a node of the image's line (skipped, saying why, when it is not here)", async (t) => {
    for (const [target, run] of runtimes) {
      const node = nodes.get(target);
      if (node?.fallback) {
        t.skip(`${target}: ${node.fallback}`);
        continue;
      }
      const launch = run.command(['node', '-p', 'process.versions.node'], {});
      const probe = await runProcess(launch.command, launch.args, {
        cwd: launch.cwd,
        env: launch.env,
        inheritEnv: false,
        timeoutMs: 30_000,
      });
      assert.equal(probe.code, 0, probe.stderr);
      assert.equal(
        Number(probe.stdout.trim().split('.')[0]),
        nodeLineOf(run.image.config.baseImage),
        `${target}: node ${probe.stdout.trim()} runs the image of ${run.image.config.baseImage}`,
      );
    }
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
      if (PYTHON_IMAGES[image.target]) continue; // no node workspace: see the Python image's own test
      const deployed = deployedWorkspaces(REPO_ROOT, image.workdir);
      for (const library of [
        'shared/core',
        'shared/temporal',
        'shared/trail',
        'shared/service-kit',
        'shared/sample',
      ])
        assert.ok(deployed.includes(library), `${image.target} image deploys ${library}`);
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

  it('a Python image carries its package as tracked and exactly its pinned packages, and loads nothing else', async () => {
    for (const [target, program] of Object.entries(PYTHON_IMAGES)) {
      const image = runtime(target);
      const problems = pythonAssets(REPO_ROOT, program.folder, program.module)
        .map((asset) => assetMismatch(REPO_ROOT, image.image.workdir, asset))
        .filter((problem) => problem !== undefined);
      assert.deepEqual(problems, [], `${target} image: ${problems.join('\n')}`);
      // Imports the service's modules (not its start), then lists the installed distributions and every
      // loaded module file that is neither in the image nor in the standard library.
      const probe = [
        // What the interpreter loaded at start (site's .pth hooks of this machine's Python) is not the image's.
        'import sys; at_start = set(sys.modules)',
        'import importlib.metadata, json, os, pkgutil, sysconfig',
        `import ${program.module}`,
        `for m in pkgutil.iter_modules(${program.module}.__path__): __import__("${program.module}." + m.name)`,
        'stdlib = sysconfig.get_paths()["stdlib"]',
        'here = os.getcwd()',
        'files = sorted({os.path.abspath(m.__file__) for n, m in list(sys.modules.items()) if n not in at_start and getattr(m, "__file__", None)})',
        'outside = [f for f in files if not f.startswith(here + "/") and (not f.startswith(stdlib + "/") or "-packages/" in f)]',
        `dists = importlib.metadata.distributions(path=["${program.folder}/site-packages"])`,
        'print(json.dumps({"outside": outside, "installed": sorted(f"{d.metadata[\'Name\']}=={d.version}" for d in dists)}))',
      ].join('\n');
      const launch = image.command(['python3', '-c', probe], {});
      const run = await runProcess(launch.command, launch.args, {
        cwd: launch.cwd,
        env: launch.env,
        inheritEnv: false,
        timeoutMs: 60_000,
      });
      assert.equal(run.code, 0, `${target} image: importing ${program.module} failed:\n${run.stderr}`);
      const found = JSON.parse(run.stdout) as { outside: string[]; installed: string[] };
      assert.deepEqual(found.outside, [], `${target} image: modules loaded from outside the image`);
      const normalise = (pin: string) => pin.toLowerCase().replace(/[-_.]+(?=[^=]*==)/g, '-');
      const pinned = readFileSync(path.join(REPO_ROOT, program.folder, 'requirements.txt'), 'utf8')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'));
      assert.deepEqual(found.installed.map(normalise).sort(), pinned.map(normalise).sort());
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
      launchPython(program, args, env) {
        const image = [...runtimes.values()].find((r) => r.hasPython(program));
        assert.ok(image, `no image carries ${program.folder}/${program.module}`);
        return image.launchPython(program, args, env);
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

    it('the ingress, the notifier, a baseline worker and the sandbox worker reach /readyz, the workers from the prebuilt bundle', {
      timeout: 180_000,
    }, async () => {
      // Each start waits for /readyz (and fails early if the process exits).
      // The first worker starts the payments service beside it, from its image: every order is charged through it.
      const [, baseline, sandbox] = await Promise.all([
        pipeline.startIngress(),
        pipeline.startWorker(),
        pipeline.startWorker(SANDBOX.name),
        pipeline.startNotifier(),
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

    it('the payments service, baseline and fork, reaches /readyz from its image, polling its own queue', {
      timeout: 120_000,
    }, async () => {
      const [baseline, fork] = await Promise.all([
        pipeline.startPayments(),
        pipeline.startPayments(SANDBOX.name),
      ]);
      for (const [service, queue] of [
        [baseline, pipeline.paymentsTaskQueue],
        [fork, `${pipeline.paymentsTaskQueue}@${SANDBOX.name}`],
      ] as const) {
        // /readyz holds once the worker polls; its 'worker started' line names the queue.
        await pollUntil(() => readFileSync(service.logFile, 'utf8').includes(`"taskQueue": "${queue}"`), {
          description: `${service.name} to log that it polls ${queue}`,
          timeoutMs: 10_000,
        });
        assert.equal(await pipeline.stopService(service), 0, `${service.name} exits 0 on SIGTERM`);
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
