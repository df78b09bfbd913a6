import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import ignore from '@balena/dockerignore';
import {
  applyConfig,
  DockerfileError,
  type ImageConfig,
  imageConfig,
  imageTargets,
  type ParsedDockerfile,
  parentStage,
  parseDockerfile,
  type Stage,
  type Step,
  stageDependencies,
  stageNamed,
} from './dockerfile';
import { imageUser, isRoot } from './image-user';

/**
 * Builds the Dockerfile's stages into directories, one per stage, without a container engine:
 * COPY from the build context (with .dockerignore applied) or from another stage, RUN with
 * `/bin/sh -c` inside the stage's WORKDIR, as Docker would. Each stage's root stands for `/` of its
 * image; the base image's own files (node, npm, sh) are this machine's.
 *
 * What Docker does differently, and why it does not matter for the check: RUN lines see this machine's
 * node and npm (same lockfile, so the same tree), and they cannot use absolute paths into the image
 * (refused below: a RUN line must use paths relative to WORKDIR).
 */

/** One image as the check assembled it. */
export interface AssembledImage {
  target: string;
  /** Stands for `/` of the image. */
  root: string;
  config: ImageConfig;
  /** The image's WORKDIR on this machine. */
  workdir: string;
}

export interface AssembleOptions {
  dockerfile: string;
  /** The build context (the repository root). */
  context: string;
  /** Empty directory for the stages' roots and their logs. */
  workDir: string;
  /** Images to assemble; default: every image target of the Dockerfile. */
  targets?: string[];
  /** Progress, one line at a time. */
  log?: (line: string) => void;
  /** A RUN that outlives this is killed (its process group) and the assembly fails. */
  runTimeoutMs?: number;
}

/** A path inside a stage's root (`/app/x` → `<root>/app/x`), refusing to leave it. */
export function inStage(root: string, imagePath: string): string {
  const resolved = path.join(root, path.posix.resolve('/', imagePath));
  if (resolved !== root && !resolved.startsWith(`${root}${path.sep}`)) {
    throw new DockerfileError(`${imagePath} leaves the stage`);
  }
  return resolved;
}

/** Docker's filepath.Match for one path segment: `*`, `?` and `[...]`. */
function segmentPattern(segment: string): RegExp {
  let body = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') body += '[^/]*';
    else if (c === '?') body += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) throw new DockerfileError(`bad pattern ${segment}`);
      body += `[${segment
        .slice(i + 1, end)
        .replace(/^\^/, '!')
        .replace(/^!/, '^')}]`;
      i = end;
    } else body += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${body}$`);
}

/**
 * The paths a COPY source names under `root` (relative to it), wildcards expanded, leaving out what
 * `visible` hides (the build context's .dockerignore).
 */
export function expandSource(root: string, source: string, visible: (relative: string) => boolean): string[] {
  const segments = path.posix
    .normalize(source)
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new DockerfileError(`COPY source ${source} leaves its root`);
  let found = [''];
  for (const segment of segments) {
    const wildcard = /[*?[]/.test(segment);
    const pattern = wildcard ? segmentPattern(segment) : undefined;
    found = found.flatMap((dir) => {
      const full = path.join(root, dir);
      if (!pattern) {
        const candidate = dir ? `${dir}/${segment}` : segment;
        return existsSync(path.join(root, candidate)) || isSymlink(path.join(root, candidate))
          ? [candidate]
          : [];
      }
      if (!isDirectory(full)) return [];
      return readdirSync(full)
        .filter((name) => pattern.test(name))
        .map((name) => (dir ? `${dir}/${name}` : name));
    });
  }
  return found.filter((relative) => relative === '' || visible(relative));
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Copies a directory's contents into `dest` with `cp -a` (links, modes and times kept): several times
 * faster than a JavaScript copy for a node_modules tree.
 */
function copyTree(source: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  const cp = spawnSync('cp', ['-a', `${source}/.`, dest], { encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(`cp -a ${source} ${dest}: ${cp.error?.message ?? cp.stderr}`);
}

function walk(p: string, visit: (file: string) => void): void {
  visit(p);
  if (lstatSync(p).isDirectory()) for (const entry of readdirSync(p)) walk(path.join(p, entry), visit);
}

interface CopyEnd {
  /** Where the sources are on this machine. */
  root: string;
  /** Names it in messages: "the build context" or "stage deps". */
  label: string;
  /** Undefined when everything is visible (another stage). */
  visible: ((relative: string) => boolean) | undefined;
}

/** COPY with Docker's rules: a directory's contents (not the directory), `dest/` is a directory. */
function copyStep(
  step: Extract<Step, { kind: 'copy' }>,
  target: string,
  workdir: string,
  from: CopyEnd,
): void {
  const destPath = path.posix.isAbsolute(step.dest) ? step.dest : path.posix.join(workdir, step.dest);
  const destHost = inStage(target, destPath);
  const matches = step.sources.map((source) => {
    // Sources of --from copies are relative to the other stage's root, not its WORKDIR.
    const found = expandSource(from.root, source, from.visible ?? (() => true));
    if (found.length === 0) {
      throw new DockerfileError(`Dockerfile line ${step.line}: COPY ${source}: not found in ${from.label}`);
    }
    return found;
  });
  const all = matches.flat();
  const destIsDirectory = /\/\.?$/.test(step.dest) || step.dest === '.' || isDirectory(destHost);
  if (all.length > 1 && !destIsDirectory) {
    throw new DockerfileError(
      `Dockerfile line ${step.line}: COPY of several sources needs a destination ending in /`,
    );
  }
  const copied: string[] = [];
  const visible = from.visible;
  for (const relative of all) {
    const source = path.join(from.root, relative);
    if (isDirectory(source) && !visible) {
      copyTree(source, destHost);
      copied.push(destHost);
    } else if (isDirectory(source) && visible) {
      mkdirSync(destHost, { recursive: true });
      cpSync(source, destHost, {
        recursive: true,
        force: true,
        verbatimSymlinks: true,
        filter: (s) => {
          const rel = path.relative(from.root, s).split(path.sep).join('/');
          return rel === '' || visible(rel);
        },
      });
      copied.push(destHost);
    } else {
      const file = destIsDirectory ? path.join(destHost, path.basename(relative)) : destHost;
      mkdirSync(path.dirname(file), { recursive: true });
      cpSync(source, file, { force: true, verbatimSymlinks: true });
      copied.push(file);
    }
  }
  if (step.chmod) {
    const mode = Number.parseInt(step.chmod, 8);
    if (Number.isNaN(mode)) throw new DockerfileError(`Dockerfile line ${step.line}: --chmod=${step.chmod}`);
    for (const top of copied) walk(top, (p) => isSymlink(p) || chmodSync(p, mode));
  }
  if (step.chown && isRoot()) {
    const { uid, gid } = imageUser(step.chown);
    for (const top of copied) walk(top, (p) => !isSymlink(p) && chownSync(p, uid, gid));
  }
}

/** Runs one RUN step in the stage; its output goes to the stage's log. */
async function runStep(
  step: Extract<Step, { kind: 'run' }>,
  root: string,
  config: ImageConfig,
  args: Record<string, string>,
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  const text = step.script ?? step.argv?.join(' ') ?? '';
  if (config.workdir !== '/' && new RegExp(`(^|[\\s"'=])${config.workdir}(/|\\s|"|'|$)`).test(text)) {
    throw new DockerfileError(
      `Dockerfile line ${step.line}: RUN uses the absolute path ${config.workdir}; use paths relative to WORKDIR so the image check can run it`,
    );
  }
  const cwd = inStage(root, config.workdir);
  mkdirSync(cwd, { recursive: true });
  const [command, ...commandArgs] =
    step.script !== undefined ? ['/bin/sh', '-c', step.script] : (step.argv ?? []);
  if (!command) throw new DockerfileError(`Dockerfile line ${step.line}: empty RUN`);
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`\n$ ${text}\n`);
  const user = config.user === 'root' || !isRoot() ? undefined : imageUser(config.user);
  // Only what an image's RUN sees: the base image's PATH (here this machine's node and npm), HOME
  // (npm's cache, as the cache mount gives it), the stage's ARGs and ENV. Nothing from the caller's npm.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...args, ...config.env };
  const child = spawn(command, commandArgs, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a timeout stops npm's children too
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  // Its own process group does not get the terminal's Ctrl-C: pass it on, then stop as asked.
  const onSignal = (signal: NodeJS.Signals) => {
    killGroup();
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = setTimeout(killGroup, timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolve(signal ? null : exitCode));
  }).finally(() => {
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  await new Promise((resolve) => log.end(resolve));
  if (code !== 0) {
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    throw new DockerfileError(
      `Dockerfile line ${step.line}: RUN failed (${code === null ? `killed after ${timeoutMs} ms` : `exit ${code}`}); log ${logFile}:\n${tail}`,
    );
  }
}

/** Assembles the Dockerfile's image targets; returns them by name. */
export async function assembleImages(options: AssembleOptions): Promise<Map<string, AssembledImage>> {
  const parsed: ParsedDockerfile = parseDockerfile(readFileSync(options.dockerfile, 'utf8'));
  const { stages } = parsed;
  const log = options.log ?? (() => {});
  const ignoreFile = path.join(options.context, '.dockerignore');
  const ignored = ignore().add(existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8').split(/\r?\n/) : []);
  const context: CopyEnd = {
    root: options.context,
    label: 'the build context',
    visible: (relative) => !ignored.ignores(relative),
  };
  const targets = options.targets ?? imageTargets(stages).map((s) => s.name as string);
  const stageRoot = (stage: Stage) => path.join(options.workDir, 'stages', stage.name ?? String(stage.index));
  const logDir = path.join(options.workDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const building = new Map<Stage, Promise<void>>();

  const build = (stage: Stage): Promise<void> => {
    let promise = building.get(stage);
    if (!promise) {
      promise = (async () => {
        await Promise.all(stageDependencies(stages, stage).map(build));
        const started = Date.now();
        const label = stage.name ?? String(stage.index);
        const root = stageRoot(stage);
        const parent = parentStage(stages, stage);
        if (parent) copyTree(stageRoot(parent), root);
        else mkdirSync(root, { recursive: true });
        const config = parent ? imageConfig(stages, parent) : imageConfig(stages, { ...stage, steps: [] });
        const args: Record<string, string> = {};
        for (const step of stage.steps) {
          if (step.kind === 'copy') {
            const source = step.from === undefined ? undefined : stageNamed(stages, step.from, stage.index);
            copyStep(
              step,
              root,
              config.workdir,
              source ? { root: stageRoot(source), label: `stage ${step.from}`, visible: undefined } : context,
            );
          } else if (step.kind === 'run') {
            const runStarted = Date.now();
            await runStep(
              step,
              root,
              config,
              args,
              path.join(logDir, `${label}.log`),
              options.runTimeoutMs ?? 15 * 60_000,
            );
            log(`[${label}] RUN (line ${step.line}) ${((Date.now() - runStarted) / 1000).toFixed(1)} s`);
          } else if (step.kind === 'arg') {
            const value = step.value ?? parsed.globalArgs[step.name];
            if (value !== undefined) args[step.name] = value;
          } else {
            applyConfig(config, step);
            if (step.kind === 'workdir') mkdirSync(inStage(root, config.workdir), { recursive: true });
          }
        }
        log(`[${label}] assembled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      })();
      building.set(stage, promise);
    }
    return promise;
  };

  const images = new Map<string, AssembledImage>();
  for (const target of targets) {
    const stage = stages.find((s) => s.name === target);
    if (!stage) throw new DockerfileError(`the Dockerfile has no stage named ${target}`);
  }
  await Promise.all(
    targets.map(async (target) => {
      const stage = stages.find((s) => s.name === target) as Stage;
      await build(stage);
      const config = imageConfig(stages, stage);
      const root = stageRoot(stage);
      images.set(target, { target, root, config, workdir: inStage(root, config.workdir) });
    }),
  );
  return images;
}
