import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runProcess } from '@sandbox-routing/testkit';
import { REPO_ROOT } from '../../stack/paths';
import { assembleImages } from '../assemble';
import { assetMismatch, entryPoints, runtimeAssets } from '../contents';
import { closureDifferences, dependencyClosure } from '../dependencies';
import { DockerfileError, defaultCommand, imageConfig, imageTargets, parseDockerfile } from '../dockerfile';
import { ImageRuntime, removeScratch } from '../image-user';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'image-check-test-'));
after(() => removeScratch(scratch));

/** Writes files (path → content) under a fresh folder; returns it. */
function tree(name: string, files: Record<string, string>): string {
  const root = path.join(scratch, name);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  }
  return root;
}

const pkg = (name: string, version: string, dependencies: Record<string, string> = {}) =>
  JSON.stringify({ name, version, dependencies });

describe('Dockerfile parsing', () => {
  it("reads the repository's Dockerfile: the Node images on node:26-bookworm-slim, run as node from /app, and payments", () => {
    const { stages } = parseDockerfile(readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8'));
    const targets = imageTargets(stages);
    assert.deepEqual(targets.map((s) => s.name).sort(), [
      'ingress',
      'notifier',
      'payments',
      'producer',
      'worker',
    ]);
    for (const stage of targets.filter((s) => s.name !== 'payments')) {
      const config = imageConfig(stages, stage);
      assert.equal(config.baseImage, 'node:26-bookworm-slim');
      assert.equal(config.user, 'node');
      assert.equal(config.workdir, '/app');
      assert.equal(config.env.NODE_ENV, 'production');
    }
  });

  it('keeps a shell script whole: continuations joined, comment lines dropped, a trailing \\) kept', () => {
    const { stages } = parseDockerfile(
      'FROM x AS a\nRUN --mount=type=cache,target=/root/.npm find . \\\n# why\n  \\( -name a \\) -o \\( -name b \\)\n',
    );
    assert.deepEqual(stages[0]?.steps, [
      { kind: 'run', line: 2, script: 'find .   \\( -name a \\) -o \\( -name b \\)' },
    ]);
  });

  it('expands global ARGs in FROM and follows ENTRYPOINT/CMD inheritance as Docker does', () => {
    const { stages, globalArgs } = parseDockerfile(
      'ARG BASE=debian:12\nFROM $BASE AS base\nCMD ["a"]\nFROM base AS one\nENTRYPOINT ["e"]\nFROM base AS two\nCMD ["b"]\nENTRYPOINT ["f"]\n',
    );
    assert.deepEqual(globalArgs, { BASE: 'debian:12' });
    const config = (name: string) => imageConfig(stages, stages.find((s) => s.name === name) as never);
    assert.equal(config('one').baseImage, 'debian:12');
    assert.deepEqual(defaultCommand(config('one')), ['e'], 'ENTRYPOINT resets the inherited CMD');
    assert.deepEqual(defaultCommand(config('two')), ['f', 'b'], 'not a CMD set in the same stage');
  });

  it('refuses, with the line, what the check cannot carry out as Docker would', () => {
    const refused = [
      'FROM x\nADD a b\n',
      'FROM x\nSHELL ["/bin/bash", "-c"]\n',
      'FROM x\nRUN --mount=type=secret,id=t cat /run/secrets/t\n',
      'FROM x\nCOPY --parents a b/\n',
      'FROM x\nCOPY <<EOF a\nhi\nEOF\n',
    ];
    for (const text of refused) {
      assert.throws(() => parseDockerfile(text), /Dockerfile line 2/, text);
    }
  });
});

describe('assembling images without a container engine', () => {
  it("follows Docker's COPY rules, .dockerignore, RUN in WORKDIR with only the image's environment", async () => {
    const context = tree('context', {
      '.dockerignore': '**/dist\n**/*.log\n',
      'app/package.json': '{}',
      'app/src/index.js': 'x',
      'app/src/notes.log': 'ignored',
      'app/dist/stale.js': 'ignored',
      'one.txt': '1',
      'two.txt': '2',
      Dockerfile: [
        'FROM img AS build',
        'WORKDIR /srv',
        'ENV GREETING=hello',
        'ARG LEVEL=3',
        'COPY app/src src',
        'COPY *.txt texts/',
        'COPY one.txt renamed.txt',
        'RUN mkdir out && echo "$GREETING $LEVEL [$npm_config_omit] $(pwd | sed s,.*/,,)" > out/env && ln -s ../src/index.js out/link',
        'FROM img AS final',
        'WORKDIR /srv',
        'COPY --from=build /srv/out ./',
        'USER node',
        'CMD ["node", "main.js"]',
      ].join('\n'),
    });
    process.env.npm_config_omit = 'dev'; // as `npm run` would pass it: a RUN must not see it
    const images = await assembleImages({
      dockerfile: path.join(context, 'Dockerfile'),
      context,
      workDir: path.join(scratch, 'assembled'),
    });
    delete process.env.npm_config_omit;
    assert.deepEqual([...images.keys()], ['final']);
    const build = path.join(scratch, 'assembled', 'stages', 'build', 'srv');
    assert.ok(existsSync(path.join(build, 'src', 'index.js')), 'a directory source copies its contents');
    assert.ok(!existsSync(path.join(build, 'src', 'notes.log')), '.dockerignore applies');
    assert.ok(existsSync(path.join(build, 'texts', 'two.txt')), 'wildcards expand into a dest/ directory');
    assert.equal(readFileSync(path.join(build, 'renamed.txt'), 'utf8'), '1', 'a file to a file path');
    const final = images.get('final');
    assert.ok(final);
    assert.equal(readFileSync(path.join(final.workdir, 'env'), 'utf8'), 'hello 3 [] srv\n');
    assert.equal(readlinkSync(path.join(final.workdir, 'link')), '../src/index.js', 'symlinks stay links');
    assert.equal(final.config.user, 'node');
  });

  it('fails with the line when a COPY source is missing or ignored, or a RUN uses the absolute WORKDIR', async () => {
    const cases: [string, RegExp][] = [
      ['FROM img AS a\nCOPY missing.txt ./\n', /line 2: COPY missing.txt: not found in the build context/],
      ['FROM img AS a\nCOPY x.log ./\n', /line 2: COPY x.log: not found/],
      ['FROM img AS a\nWORKDIR /app\nRUN ls /app/x\n', /line 3: RUN uses the absolute path \/app/],
      ['FROM img AS a\nRUN exit 3\n', /line 2: RUN failed \(exit 3\)/],
    ];
    for (const [index, [dockerfile, expected]] of cases.entries()) {
      const context = tree(`failing-${index}`, {
        '.dockerignore': '*.log\n',
        'x.log': '',
        Dockerfile: dockerfile,
      });
      await assert.rejects(
        assembleImages({
          dockerfile: path.join(context, 'Dockerfile'),
          context,
          workDir: path.join(scratch, `failing-${index}-out`),
        }),
        (error: Error) => error instanceof DockerfileError && expected.test(error.message),
      );
    }
  });

  it("runs programs as the image's user: the tree is read-only to them, their TMPDIR is writable", async () => {
    const context = tree('user-context', {
      'main.js': 'require("fs").writeFileSync(process.argv[2], "x"); console.log(process.getuid())',
      Dockerfile: 'FROM img AS app\nWORKDIR /app\nCOPY main.js ./\nUSER node\nCMD ["node", "main.js"]\n',
    });
    const images = await assembleImages({
      dockerfile: path.join(context, 'Dockerfile'),
      context,
      workDir: path.join(scratch, 'user-out'),
    });
    const runtime = new ImageRuntime(images.get('app') as never, path.join(scratch, 'user-out'));
    runtime.prepare();
    const run = async (file: string) => {
      const launch = runtime.launch('main.js', [file], {});
      return runProcess(launch.command, launch.args, { cwd: launch.cwd, env: launch.env, inheritEnv: false });
    };
    const intoTree = await run('written-by-the-app');
    assert.notEqual(intoTree.code, 0, 'writing into the tree fails');
    assert.match(intoTree.stderr, /EACCES/);
    const intoTmp = await run(path.join(runtime.tmp, 'scratch-file'));
    assert.equal(intoTmp.code, 0, intoTmp.stderr);
    if (runtime.switchesUser) assert.equal(intoTmp.stdout.trim(), '1000');
  });
});

describe('what an image must hold', () => {
  it("finds a workspace that loads a hoisted major version instead of its own copy (the producer's commander)", () => {
    const files = {
      'node_modules/commander/package.json': pkg('commander', '2.20.3'),
      'node_modules/terser/package.json': pkg('terser', '5.0.0', { commander: '^2.20.0' }),
      'producer/package.json': pkg('producer', '0.1.0', { commander: '^14', terser: '^5' }),
    };
    const tested = tree('tested', {
      ...files,
      'producer/node_modules/commander/package.json': pkg('commander', '14.0.3'),
    });
    const image = tree('image', files);
    assert.deepEqual(
      closureDifferences(dependencyClosure(tested, 'producer'), dependencyClosure(tested, 'producer')),
      [],
    );
    assert.deepEqual(
      closureDifferences(dependencyClosure(tested, 'producer'), dependencyClosure(image, 'producer')),
      [
        'producer → commander: tested producer/node_modules/commander@14.0.3, image node_modules/commander@2.20.3',
      ],
    );
  });

  it('reports a dependency the image lacks, never looking above the tree', () => {
    const image = tree('outer/image', { 'app/package.json': pkg('app', '1.0.0', { left: '1' }) });
    tree('outer', { 'node_modules/left/package.json': pkg('left', '1.0.0') });
    assert.deepEqual([...dependencyClosure(image, 'app')], [['app → left', 'missing']]);
  });

  it("lists a workspace's programs: top-level modules nothing loads, not main or exports", () => {
    const root = tree('programs', {
      'svc/package.json': JSON.stringify({
        main: 'dist/index.js',
        exports: { './extra': './dist/extra.js' },
      }),
      'svc/dist/index.js': 'require("./lib")',
      'svc/dist/lib.js': "require.resolve('./workflows'); require('./sub/x')",
      'svc/dist/workflows.js': '',
      'svc/dist/extra.js': '',
      'svc/dist/sub/x.js': 'require("../helper")',
      'svc/dist/helper.js': '',
      'svc/dist/main.js': 'require("./lib")',
      'svc/dist/cli.js': '',
    });
    assert.deepEqual(entryPoints(root, 'svc'), ['svc/dist/cli.js', 'svc/dist/main.js']);
  });

  it("expects a workspace's tracked non-TypeScript files in the image, src/ ones under dist/", () => {
    const assets = runtimeAssets(REPO_ROOT, 'shared/sample');
    assert.deepEqual(
      assets.find((a) => a.source === 'shared/sample/src/event.schema.json'),
      { source: 'shared/sample/src/event.schema.json', inImage: 'shared/sample/dist/event.schema.json' },
    );
    assert.ok(
      assets.some(
        (a) => a.source === 'shared/sample/package.json' && a.inImage === 'shared/sample/package.json',
      ),
    );
    assert.ok(!assets.some((a) => /\.ts$|tsconfig|__tests__/.test(a.source)), 'no sources, config or tests');
    const image = tree('assets', {
      'shared/sample/dist/event.schema.json': JSON.stringify(
        JSON.parse(readFileSync(path.join(REPO_ROOT, 'shared/sample/src/event.schema.json'), 'utf8')),
      ),
      'shared/sample/package.json': '{"changed": true}',
    });
    const problem = (source: string) =>
      assetMismatch(REPO_ROOT, image, assets.find((a) => a.source === source) as never);
    assert.equal(problem('shared/sample/src/event.schema.json'), undefined, 'JSON compares as data');
    assert.equal(
      problem('shared/sample/package.json'),
      'shared/sample/package.json differs from shared/sample/package.json',
    );
    rmSync(path.join(image, 'shared/sample/package.json'));
    assert.equal(
      problem('shared/sample/package.json'),
      'shared/sample/package.json is missing (expected at shared/sample/package.json)',
    );
  });
});
