import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../../stack/paths';
import { brokenLinkReason, docPages, headingAnchor, relativeLinks } from '../markdown';

/**
 * Pages written on other branches at the same time, linked from the table of contents before they merge.
 * A link to one is accepted only while the page does not exist; once merged it is checked like any other.
 */
const PAGES_WRITTEN_ELSEWHERE = ['docs/local-fork.md'];

describe('docs links', () => {
  it('every relative link of README.md and docs/*.md resolves, file and #anchor', () => {
    const broken = docPages().flatMap((page) =>
      relativeLinks(page).flatMap((link) => {
        const target = path.normalize(path.join(path.dirname(link.page), link.target));
        if (PAGES_WRITTEN_ELSEWHERE.includes(target) && !existsSync(path.join(REPO_ROOT, target))) return [];
        const reason = brokenLinkReason(link);
        return reason ? [`${link.page}:${link.line} (${link.target}): ${reason}`] : [];
      }),
    );
    assert.deepEqual(broken, [], `broken links:\n${broken.join('\n')}`);
  });

  it("README.md stays the newcomer's five-minute page: at most 200 lines", () => {
    const lines = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8').trimEnd().split('\n').length;
    assert.ok(lines <= 200, `README.md has ${lines} lines; move reference material to docs/`);
  });

  it('docs/README.md lists every docs page', () => {
    const listed = new Set(relativeLinks('docs/README.md').map((link) => link.target.split('#')[0]));
    const pages = docPages().filter((page) => page.startsWith('docs/') && page !== 'docs/README.md');
    const missing = pages.filter((page) => !listed.has(path.basename(page)));
    assert.deepEqual(missing, [], 'pages missing from the docs table of contents');
  });

  describe('the checker itself', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'docs-links-'));
    after(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(path.join(root, 'docs'));
    writeFileSync(
      path.join(root, 'README.md'),
      '# Title\n\nSee [a](docs/a.md#the-a-page), [b](docs/b.md), [c](docs/a.md#nope), `[d](docs/d.md)`.\n',
    );
    writeFileSync(
      path.join(root, 'docs', 'a.md'),
      '# The `A` page!\n\n```sh\n# not a heading\n```\n\nBack to [top](#the-a-page).\n',
    );

    it('reports a missing file and a missing anchor, and nothing else', () => {
      const reasons = docPages(root).flatMap((page) =>
        relativeLinks(page, root).map((link) => `${link.target}: ${brokenLinkReason(link, root) ?? 'ok'}`),
      );
      assert.deepEqual(reasons, [
        'docs/a.md#the-a-page: ok',
        'docs/b.md: docs/b.md does not exist',
        'docs/a.md#nope: docs/a.md has no heading #nope',
        '#the-a-page: ok',
      ]);
    });

    it('makes anchors the way GitHub does', () => {
      assert.equal(headingAnchor('Tracing, logs and metrics'), 'tracing-logs-and-metrics');
      assert.equal(headingAnchor('Clients: who routes how'), 'clients-who-routes-how');
      assert.equal(headingAnchor('`sandboxRouting()` in a worker'), 'sandboxrouting-in-a-worker');
    });
  });
});
