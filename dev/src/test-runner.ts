import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, STACK_DIR } from './stack/paths';

/**
 * Runs every compiled test file of the workspaces with node's test runner, one file at a time
 * (integration tests share the local stack). `--unit` leaves out `*.integration.test.js`; the fault
 * suite (`*.faults.test.js`) runs only with `--faults`.
 * Test files are listed explicitly rather than by node's directory search, so helper modules
 * are never mistaken for tests; a compiled test whose source was deleted or renamed is never run
 * (tsc leaves stale outputs behind).
 *
 * In CI (`CI` set) it also writes a JUnit report and LCOV coverage to `.stack/reports/`, and prints a
 * coverage summary.
 */
const WORKSPACES = ['shared', 'testkit', 'dev', 'producer', 'ingress', 'worker'];

/** `<ws>/dist/a/__tests__/b.test.js` → `<ws>/src/a/__tests__/b.test.ts`. */
function sourceOf(workspace: string, compiled: string): string {
  const relative = path.relative(path.join(REPO_ROOT, workspace, 'dist'), compiled);
  return path.join(REPO_ROOT, workspace, 'src', relative.replace(/\.js$/, '.ts'));
}

function testFiles(workspace: string, dir = path.join(REPO_ROOT, workspace, 'dist')): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return testFiles(workspace, full);
    const isTest = full.includes(`${path.sep}__tests__${path.sep}`) && entry.endsWith('.test.js');
    return isTest && existsSync(sourceOf(workspace, full)) ? [full] : [];
  });
}

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const faultsOnly = args.includes('--faults');
const filters = args.filter((a) => !a.startsWith('--'));
let files = WORKSPACES.flatMap((ws) => testFiles(ws));
// The fault suite (`*.faults.test.ts`: soaks with servers killed and restarted) runs on its own.
files = files.filter((f) => f.endsWith('.faults.test.js') === faultsOnly);
if (unitOnly) files = files.filter((f) => !f.endsWith('.integration.test.js'));
if (filters.length > 0) files = files.filter((f) => filters.some((filter) => f.includes(filter)));
if (files.length === 0) {
  console.error('no test files found: build first (npx tsc -b)');
  process.exit(1);
}
const reports: string[] = [];
const suffix = unitOnly ? '-unit' : faultsOnly ? '-faults' : '';
if (process.env.CI) {
  const dir = path.join(STACK_DIR, 'reports');
  mkdirSync(dir, { recursive: true });
  reports.push(
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=junit',
    `--test-reporter-destination=${path.join(dir, `junit${suffix}.xml`)}`,
    '--test-reporter=lcov',
    `--test-reporter-destination=${path.join(dir, `lcov${suffix}.info`)}`,
    // The spec reporter then ends with a coverage table per file (the summary CI shows).
    '--experimental-test-coverage',
  );
} else {
  reports.push('--test-reporter=spec');
}
const result = spawnSync(
  process.execPath,
  ['--test', ...reports, '--test-concurrency=1', ...files.map((f) => path.relative(REPO_ROOT, f))],
  { stdio: 'inherit', cwd: REPO_ROOT },
);
process.exit(result.status ?? 1);
