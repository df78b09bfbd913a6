import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, STACK_DIR } from './stack/paths';

/**
 * Runs every compiled test file of the workspaces with node's test runner. `--unit` leaves out
 * `*.integration.test.js`; the fault suite (`*.faults.test.js`) runs only with `--faults`, one file at a time.
 *
 * Files run TEST_CONCURRENCY at a time (default 2): integration tests share the local stack but each
 * works on its own topics, groups, task queues and keys, and most of their time is spent waiting on
 * servers. A file whose source says `@runs-alone` (it stops a shared server, e.g. Kafka) runs by itself,
 * after the others.
 * Test files are listed explicitly rather than by node's directory search, so helper modules
 * are never mistaken for tests; a compiled test whose source was deleted or renamed is never run
 * (tsc leaves stale outputs behind).
 *
 * In CI (`CI` set) it also writes JUnit reports to `.stack/reports/`. With TEST_COVERAGE=1 it collects
 * coverage too (LCOV there, a table at the end): not by default, since it slows every test process and
 * each service the tests spawn, and Node 20's reporter can fail on the merged data (exit 1 with every
 * test passing).
 *
 * Then the Python tests of the payments service (`payments/tests`, pytest in .tools/python) under the same
 * rules: `unit/` always, `integration/` (the local stack) unless `--unit`, none with `--faults`; the
 * filters apply to their paths too. Integration tests fail, never skip, without the stack.
 */
/** Every workspace of the root package.json: one added later (the notifier was missed once) is tested too. */
const WORKSPACES: string[] = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'),
).workspaces;

/** `<ws>/dist/a/__tests__/b.test.js` → `<ws>/src/a/__tests__/b.test.ts`. */
function sourceOf(workspace: string, compiled: string): string {
  const relative = path.relative(path.join(REPO_ROOT, workspace, 'dist'), compiled);
  return path.join(REPO_ROOT, workspace, 'src', relative.replace(/\.js$/, '.ts'));
}

/** Every `test_*.py` under `payments/tests`, relative to the repository root. */
function pythonTestFiles(dir = path.join(REPO_ROOT, 'payments', 'tests')): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return pythonTestFiles(full);
    return /^test_.*\.py$/.test(entry) ? [path.relative(REPO_ROOT, full)] : [];
  });
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
let pythonFiles = faultsOnly ? [] : pythonTestFiles();
if (unitOnly) pythonFiles = pythonFiles.filter((f) => !f.includes(`${path.sep}integration${path.sep}`));
if (filters.length > 0) pythonFiles = pythonFiles.filter((f) => filters.some((filter) => f.includes(filter)));
if (files.length === 0 && pythonFiles.length === 0) {
  console.error('no test files found: build first (npx tsc -b)');
  process.exit(1);
}
const reports: string[] = [];
const suffix = unitOnly ? '-unit' : faultsOnly ? '-faults' : '';
const coverage = process.env.TEST_COVERAGE === '1';
if (process.env.CI || coverage) {
  const dir = path.join(STACK_DIR, 'reports');
  mkdirSync(dir, { recursive: true });
  reports.push('--test-reporter=spec', '--test-reporter-destination=stdout');
  if (process.env.CI)
    reports.push(
      '--test-reporter=junit',
      `--test-reporter-destination=${path.join(dir, `junit${suffix}.xml`)}`,
    );
  if (coverage)
    reports.push(
      '--test-reporter=lcov',
      `--test-reporter-destination=${path.join(dir, `lcov${suffix}.info`)}`,
      // The spec reporter then ends with a coverage table per file.
      '--experimental-test-coverage',
    );
} else {
  reports.push('--test-reporter=spec');
}
let status = 0;
/**
 * The pipeline's workers load one workflow bundle built here, once, from the code just compiled (as the
 * image does), instead of each bundling at start: webpack costs every worker start seconds of CPU, and
 * the suites start dozens of workers. The dev path (bundling at start) stays covered by the worker's
 * own tests and the demo.
 */
function buildPipelineBundle(): NodeJS.ProcessEnv {
  if (
    process.env.PIPELINE_WORKFLOW_BUNDLE !== undefined ||
    !files.some((f) => /\.(integration|faults)\.test\.js$/.test(f))
  )
    return {};
  const bundle = path.join(STACK_DIR, 'test-bundle', 'workflows.js');
  mkdirSync(path.dirname(bundle), { recursive: true });
  const started = Date.now();
  const built = spawnSync(
    process.execPath,
    [path.join(REPO_ROOT, 'worker/dist/build-workflow-bundle.js'), bundle],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      cwd: REPO_ROOT,
    },
  );
  if (built.status !== 0) {
    console.error('building the workflow bundle for the pipeline workers failed');
    process.exit(1);
  }
  console.log(
    `# pipeline workers load ${path.relative(REPO_ROOT, bundle)} (built in ${Date.now() - started} ms)`,
  );
  return { PIPELINE_WORKFLOW_BUNDLE: bundle };
}
/** Whether a test file must run with nothing beside it: its source says `@runs-alone`. */
function runsAlone(compiled: string): boolean {
  const workspace = WORKSPACES.find((ws) => compiled.startsWith(path.join(REPO_ROOT, ws, 'dist') + path.sep));
  return (
    workspace !== undefined && readFileSync(sourceOf(workspace, compiled), 'utf8').includes('@runs-alone')
  );
}

const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(
    `TEST_CONCURRENCY must be a whole number of test files at a time (1 or more), got "${process.env.TEST_CONCURRENCY}"`,
  );
  process.exit(2);
}

/**
 * One `node --test` run of some files. The reports of the files run alone get `-alone` in their names, so
 * the two runs do not overwrite each other (the main run's keep the names CI has always read).
 */
function runNodeTests(lane: string, laneFiles: string[], atATime: number, env: NodeJS.ProcessEnv): number {
  if (laneFiles.length === 0) return 0;
  console.log(`\n# ${lane}: ${laneFiles.length} test files, ${atATime} at a time`);
  const result = spawnSync(
    process.execPath,
    [
      '--test',
      ...(lane === 'alone'
        ? reports.map((r) => r.replace(/(junit|lcov)([^/]*)\.(xml|info)$/, '$1$2-alone.$3'))
        : reports),
      `--test-concurrency=${atATime}`,
      ...laneFiles.map((f) => path.relative(REPO_ROOT, f)),
    ],
    { stdio: 'inherit', cwd: REPO_ROOT, env },
  );
  return result.status ?? 1;
}

if (files.length > 0) {
  const env = { ...process.env, ...buildPipelineBundle() };
  // The fault suite kills and restarts the servers: always one file at a time.
  const alone = faultsOnly ? files : files.filter(runsAlone);
  const together = files.filter((f) => !alone.includes(f));
  const started = Date.now();
  status = runNodeTests('together', together, concurrency, env);
  const aloneStatus = runNodeTests('alone', alone, 1, env);
  if (status === 0) status = aloneStatus;
  console.log(`\n# node tests: ${files.length} files in ${Math.round((Date.now() - started) / 1000)} s`);
}
if (pythonFiles.length > 0) {
  // The venv dev/bin/setup.sh makes (a missing one fails the run: these tests are part of it).
  const python = path.join(REPO_ROOT, '.tools', 'python', 'bin', 'python');
  console.log(`\n# python tests (pytest, ${pythonFiles.length} files): ${pythonFiles.join(' ')}`);
  const junit = process.env.CI
    ? [`--junitxml=${path.join(STACK_DIR, 'reports', `junit-python${suffix}.xml`)}`]
    : [];
  const result = spawnSync(python, ['-m', 'pytest', '-v', ...junit, ...pythonFiles], {
    stdio: 'inherit',
    cwd: REPO_ROOT,
  });
  if (result.error) console.error(`cannot run ${python} (run dev/bin/setup.sh): ${result.error.message}`);
  if (status === 0) status = result.status ?? 1;
}
process.exit(status);
