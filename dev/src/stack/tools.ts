import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { paths } from './paths';

/** Version of the Temporal CLI built with `go install` (the newest that go-installs; see README). */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

/** The Jaeger program of the tool module `dev/jaeger` (its go.mod pins the version with a `tool` line). */
export const JAEGER_TOOL = 'github.com/jaegertracing/jaeger/cmd/jaeger';

/** Thrown when a tool the stack needs cannot be found or built. */
export class ToolInstallError extends Error {
  override readonly name = 'ToolInstallError';
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): void {
  const result = spawnSync(command, args, { stdio: 'inherit', env, cwd });
  if (result.error) throw new ToolInstallError(`${command} could not run: ${result.error.message}`);
  if (result.status !== 0)
    throw new ToolInstallError(`${command} ${args.join(' ')} exited with ${result.status}`);
}

const log = (message: string) => console.log(`[stack] ${message}`);

/** The program the environment variable `name` chooses, if it is set. @throws ToolInstallError if it names no file */
function programFromEnv(name: string): string | undefined {
  const file = process.env[name];
  if (!file) return undefined;
  if (!existsSync(file)) throw new ToolInstallError(`${name} points to a missing file: ${file}`);
  return file;
}

/**
 * Returns the Temporal CLI: `$TEMPORAL_CLI`, else the project-local build, else a `temporal` on PATH,
 * else the project-local build made once with `go install` (several minutes on a 2-core machine).
 */
export function ensureTemporalCli(): string {
  const chosen = programFromEnv('TEMPORAL_CLI');
  if (chosen) return chosen;
  const local = path.join(paths.toolsBin, 'temporal');
  if (existsSync(local)) return local;
  const system = onPath('temporal');
  if (system) return system;
  if (!onPath('go')) {
    throw new ToolInstallError(
      'No `temporal` on PATH and no Go toolchain to build it; install Go 1.25+ or the Temporal CLI.',
    );
  }
  log(`building the Temporal CLI: go install ${TEMPORAL_CLI_MODULE} (first run only; takes a few minutes)`);
  mkdirSync(paths.toolsBin, { recursive: true });
  // -s -w: no symbol table or DWARF (a dev tool nobody debugs), so linking is faster and the binary smaller.
  run('go', ['install', '-v', '-trimpath', '-ldflags=-s -w', TEMPORAL_CLI_MODULE], {
    ...process.env,
    GOBIN: paths.toolsBin,
  });
  if (!existsSync(local)) throw new ToolInstallError(`go install finished but ${local} is missing`);
  return local;
}

function digestOf(...files: string[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex');
}

/**
 * Returns Jaeger, the local trace viewer: `$JAEGER_BIN`, else the project-local build, building it
 * once with `go build` from the tool module `dev/jaeger` (its go.mod and go.sum pin every module;
 * rebuilt when they change). A cold build downloads ~400 MB of modules and compiles for several
 * minutes on a 2-core machine (docs/tracing.md).
 */
export function ensureJaeger(): string {
  const chosen = programFromEnv('JAEGER_BIN');
  if (chosen) return chosen;
  const local = path.join(paths.toolsBin, 'jaeger');
  const stamp = `${local}.stamp`;
  const digest = digestOf(path.join(paths.jaegerModule, 'go.mod'), path.join(paths.jaegerModule, 'go.sum'));
  if (existsSync(local) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return local;
  if (!onPath('go')) {
    throw new ToolInstallError(
      'No Go toolchain to build Jaeger (the trace viewer); install Go 1.25+, set JAEGER_BIN, or run with STACK_TRACING=off.',
    );
  }
  log(`building Jaeger: go build ${JAEGER_TOOL} in dev/jaeger (first run only; takes several minutes)`);
  mkdirSync(paths.toolsBin, { recursive: true });
  const building = `${local}.building`;
  run(
    'go',
    ['build', '-trimpath', '-ldflags=-s -w', '-o', building, JAEGER_TOOL],
    { ...process.env, GOFLAGS: '-mod=readonly' },
    paths.jaegerModule,
  );
  renameSync(building, local);
  writeFileSync(stamp, digest);
  return local;
}

function pomDigest(pom: string): string {
  return createHash('sha256').update(readFileSync(pom)).digest('hex');
}

/**
 * Resolves the runtime dependencies of `pom` from Maven Central into `libs` with
 * `mvn dependency:copy-dependencies`, unless a stamp says `libs` matches the pom already. `check` vets
 * the jar names before the stamp is written. Returns the jar count, or undefined when up to date.
 */
function ensureMavenJars(
  what: string,
  pom: string,
  libs: string,
  check: (jars: string[]) => void,
): number | undefined {
  const stamp = path.join(libs, '.pom.sha256');
  const digest = pomDigest(pom);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return undefined;
  if (!onPath('mvn'))
    throw new ToolInstallError(`Maven (mvn) is needed once to fetch the ${what} from Maven Central.`);
  log(`fetching the ${what} from Maven Central with mvn dependency:copy-dependencies (first run only)`);
  rmSync(libs, { recursive: true, force: true });
  mkdirSync(libs, { recursive: true });
  run('mvn', [
    '-B',
    '-q',
    '-Dstyle.color=never',
    '-f',
    pom,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${libs}`,
  ]);
  const jars = readdirSync(libs).filter((f) => f.endsWith('.jar'));
  check(jars);
  writeFileSync(stamp, digest);
  return jars.length;
}

/**
 * Ensures the Kafka broker, tools and logging jars are in `.tools/kafka/libs`, fetched from Maven Central
 * with `mvn dependency:copy-dependencies`. Re-fetches when dev/kafka/pom.xml changes.
 */
export function ensureKafkaJars(): string {
  const fetched = ensureMavenJars('Kafka jars', paths.kafkaPom, paths.kafkaLibs, (jars) => {
    const bindings = jars.filter((f) => /^log4j-slf4j|^slf4j-(reload4j|simple|log4j12|nop)/.test(f));
    if (!jars.some((f) => f.startsWith('kafka_2.13-')))
      throw new ToolInstallError('kafka_2.13 jar missing after fetch');
    if (bindings.length !== 1)
      throw new ToolInstallError(`expected exactly one SLF4J binding, found: ${bindings.join(', ')}`);
  });
  if (fetched !== undefined) log(`Kafka jars ready (${fetched} jars)`);
  return paths.kafkaLibs;
}

/**
 * Ensures Temporal's Java test server (the time-skipping server `@temporalio/testing` runs) is in
 * `.tools/temporal-test-server/libs`, from Maven Central: `@temporalio/testing` would download its native
 * build from GitHub releases. Re-fetches when dev/temporal-test-server/pom.xml changes.
 */
export function ensureTemporalTestServerJars(): string {
  const fetched = ensureMavenJars(
    'Temporal test server jars',
    paths.temporalTestServerPom,
    paths.temporalTestServerLibs,
    (jars) => {
      if (!jars.some((f) => f.startsWith('temporal-test-server-')))
        throw new ToolInstallError('temporal-test-server jar missing after fetch');
    },
  );
  if (fetched !== undefined) log(`Temporal test server jars ready (${fetched} jars)`);
  return paths.temporalTestServerLibs;
}

/** Java classpath of the fetched Temporal test server jars; its main class is `TEMPORAL_TEST_SERVER_MAIN`. */
export function temporalTestServerClasspath(): string {
  return `${paths.temporalTestServerLibs}/*`;
}

/** Main class of the Java test server: `<port> [--enable-time-skipping]`. */
export const TEMPORAL_TEST_SERVER_MAIN = 'io.temporal.testserver.TestServer';

/** Java classpath of the fetched Kafka jars. */
export function kafkaClasspath(): string {
  return `${paths.kafkaLibs}/*`;
}
