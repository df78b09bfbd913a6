import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './stack/paths';

/**
 * Runs every compiled test file of the workspaces with node's test runner, one file at a time
 * (integration tests share the local stack). `--unit` leaves out `*.integration.test.js`.
 * Test files are listed explicitly rather than by node's directory search, so helper modules
 * are never mistaken for tests.
 */
const WORKSPACES = ['shared', 'dev', 'producer', 'ingress', 'worker'];

function testFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return testFiles(full);
    return full.includes(`${path.sep}__tests__${path.sep}`) && entry.endsWith('.test.js') ? [full] : [];
  });
}

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));
let files = WORKSPACES.flatMap((ws) => testFiles(path.join(REPO_ROOT, ws, 'dist')));
if (unitOnly) files = files.filter((f) => !f.endsWith('.integration.test.js'));
if (filters.length > 0) files = files.filter((f) => filters.some((filter) => f.includes(filter)));
if (files.length === 0) {
  console.error('no test files found: build first (npx tsc -b)');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-reporter=spec',
    '--test-concurrency=1',
    ...files.map((f) => path.relative(REPO_ROOT, f)),
  ],
  { stdio: 'inherit', cwd: REPO_ROOT },
);
process.exit(result.status ?? 1);
