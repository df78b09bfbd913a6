import {
  type Copy,
  DockerfileParser,
  type Env as EnvInstruction,
  type From,
  type Instruction,
  type JSONInstruction,
  type Label,
  type ModifiableInstruction,
} from 'dockerfile-ast';

/**
 * The Dockerfile as a list of stages and their steps, in the subset the image check can carry out
 * without a container engine (see assemble.ts). Anything outside that subset is an error naming the
 * line, so the Dockerfile and the check cannot drift apart silently.
 */

/** An instruction the check cannot carry out as Docker would, or a malformed one. */
export class DockerfileError extends Error {
  override readonly name = 'DockerfileError';
}

export type Step =
  | {
      kind: 'copy';
      line: number;
      /** The stage (name or index) to copy from; undefined for the build context. */
      from: string | undefined;
      sources: string[];
      dest: string;
      chown?: string;
      chmod?: string;
    }
  | { kind: 'run'; line: number /** Shell form: a `/bin/sh -c` script. */; script?: string; argv?: string[] }
  | { kind: 'workdir'; line: number; path: string }
  | { kind: 'env'; line: number; vars: [string, string][] }
  | { kind: 'arg'; line: number; name: string; value: string | undefined }
  | { kind: 'user'; line: number; user: string }
  | { kind: 'cmd' | 'entrypoint'; line: number; argv: string[] }
  | { kind: 'label'; line: number; labels: [string, string][] }
  | { kind: 'expose'; line: number; ports: string[] };

export interface Stage {
  index: number;
  /** `AS <name>`, lower-cased as Docker treats it. */
  name: string | undefined;
  /** The image it starts from, or an earlier stage's name. */
  from: string;
  line: number;
  steps: Step[];
}

/** Instructions that only describe the image (the check has nothing to carry out for them). */
const METADATA_ONLY = new Set(['HEALTHCHECK', 'STOPSIGNAL', 'MAINTAINER', 'VOLUME']);

const lineOf = (instruction: Instruction): number => instruction.getRange().start.line + 1;

function fail(instruction: Instruction, message: string): never {
  throw new DockerfileError(
    `Dockerfile line ${lineOf(instruction)} (${instruction.getKeyword()}): ${message}`,
  );
}

/** `--name=value` flags of an instruction, refusing any the check does not know. */
function flags(instruction: ModifiableInstruction, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const flag of instruction.getFlags()) {
    const name = flag.getName();
    if (!allowed.includes(name)) {
      fail(instruction, `flag --${name} is not supported by the image check (dev/src/images/dockerfile.ts)`);
    }
    out.set(name, flag.getValue() ?? '');
  }
  return out;
}

/** The `name=value` pairs of an ENV or LABEL instruction, values unescaped. */
function namesAndValues(instruction: EnvInstruction | Label): [string, string][] {
  return instruction.getProperties().map((p) => [p.getName(), p.getUnescapedValue() ?? '']);
}

/** The arguments of an exec-form (JSON) instruction, or undefined for shell form. */
function execForm(instruction: JSONInstruction): string[] | undefined {
  const strings = instruction.getJSONStrings();
  return strings.length > 0 ? strings.map((s) => s.getJSONValue()) : undefined;
}

function heredocsRefused(instruction: Copy | JSONInstruction): void {
  if ('getHeredocs' in instruction && (instruction as Copy).getHeredocs().length > 0) {
    fail(instruction, 'heredocs are not supported by the image check');
  }
}

export interface ParsedDockerfile {
  /** ARGs declared before the first FROM, with their defaults (a stage sees one after `ARG <name>`). */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/**
 * The script of a shell-form RUN as Docker hands it to `/bin/sh -c`: line continuations (escape
 * character + newline) removed, comment lines inside them dropped. (The parser's own
 * getArgumentsContent() loses a trailing `\)`, which `find … \( … \)` needs.)
 */
function shellScript(run: JSONInstruction, escapeCharacter: string): string {
  const raw = run.getRawArgumentsContent() ?? '';
  const escaped = escapeCharacter.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  return raw
    .split(/\r?\n/)
    .filter((line, index) => index === 0 || !/^\s*#/.test(line))
    .join('\n')
    .replace(new RegExp(`${escaped}[ \\t]*\\n`, 'g'), '');
}

/** Parses a Dockerfile into stages. Variables in FROM, COPY, WORKDIR, ENV, USER are expanded. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const dockerfile = DockerfileParser.parse(text);
  const stages: Stage[] = [];
  const globalArgs: Record<string, string> = {};
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const line = lineOf(instruction);
    const expanded = () => instruction.getExpandedArguments().map((a) => a.getValue());
    if (keyword === 'FROM') {
      const from = instruction as From;
      flags(from, ['platform']);
      const args = expanded();
      const image = args[0];
      if (!image) fail(instruction, 'no image');
      const asIndex = args.findIndex((a) => a.toUpperCase() === 'AS');
      const name = asIndex >= 0 ? args[asIndex + 1]?.toLowerCase() : undefined;
      stages.push({ index: stages.length, name, from: image, line, steps: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (keyword === 'ARG') {
        // The parser expands them in FROM; RUN steps of a stage that re-declares one see its value.
        const [definition = ''] = expanded();
        const eq = definition.indexOf('=');
        if (eq > 0) globalArgs[definition.slice(0, eq)] = definition.slice(eq + 1);
        continue;
      }
      fail(instruction, 'only ARG may come before the first FROM');
    }
    switch (keyword) {
      case 'COPY': {
        const copy = instruction as Copy;
        heredocsRefused(copy);
        const options = flags(copy, ['from', 'chown', 'chmod', 'link']);
        const args = execForm(copy) ?? expanded();
        if (args.length < 2) fail(instruction, 'COPY needs a source and a destination');
        stage.steps.push({
          kind: 'copy',
          line,
          from: options.get('from')?.toLowerCase(),
          sources: args.slice(0, -1),
          dest: args.at(-1) as string,
          chown: options.get('chown'),
          chmod: options.get('chmod'),
        });
        break;
      }
      case 'RUN': {
        const run = instruction as JSONInstruction;
        heredocsRefused(run);
        const options = flags(run, ['mount']);
        const mount = options.get('mount');
        // A cache mount only speeds a build up; the check runs with the user's own npm cache.
        if (mount !== undefined && !/^type=cache(,|$)/.test(mount)) {
          fail(instruction, `only --mount=type=cache is supported by the image check, not ${mount}`);
        }
        const argv = execForm(run);
        if (argv) stage.steps.push({ kind: 'run', line, argv });
        else
          stage.steps.push({ kind: 'run', line, script: shellScript(run, dockerfile.getEscapeCharacter()) });
        break;
      }
      case 'WORKDIR':
        stage.steps.push({ kind: 'workdir', line, path: expanded().join(' ') });
        break;
      case 'ENV':
        stage.steps.push({ kind: 'env', line, vars: namesAndValues(instruction as EnvInstruction) });
        break;
      case 'ARG': {
        const [definition = ''] = expanded();
        const eq = definition.indexOf('=');
        stage.steps.push({
          kind: 'arg',
          line,
          name: eq < 0 ? definition : definition.slice(0, eq),
          value: eq < 0 ? undefined : definition.slice(eq + 1),
        });
        break;
      }
      case 'USER':
        stage.steps.push({ kind: 'user', line, user: expanded().join('') });
        break;
      case 'CMD':
      case 'ENTRYPOINT': {
        const json = instruction as JSONInstruction;
        const argv = execForm(json) ?? ['/bin/sh', '-c', json.getArgumentsContent() ?? ''];
        stage.steps.push({ kind: keyword === 'CMD' ? 'cmd' : 'entrypoint', line, argv });
        break;
      }
      case 'LABEL':
        stage.steps.push({ kind: 'label', line, labels: namesAndValues(instruction as Label) });
        break;
      case 'EXPOSE':
        stage.steps.push({ kind: 'expose', line, ports: expanded() });
        break;
      default:
        if (!METADATA_ONLY.has(keyword)) {
          fail(instruction, 'not supported by the image check (dev/src/images/dockerfile.ts)');
        }
    }
  }
  return { globalArgs, stages };
}

/** The stage a FROM or COPY --from names: by name, or by index; undefined for an outside image. */
export function stageNamed(stages: readonly Stage[], ref: string, before: number): Stage | undefined {
  const earlier = stages.slice(0, before);
  if (/^\d+$/.test(ref)) return earlier[Number(ref)];
  return earlier.find((s) => s.name === ref.toLowerCase());
}

/** The stage a stage is built on, when it is built on an earlier stage rather than an image. */
export function parentStage(stages: readonly Stage[], stage: Stage): Stage | undefined {
  return stageNamed(stages, stage.from, stage.index);
}

/** The stages a stage needs built first: its parent and every stage it copies from. */
export function stageDependencies(stages: readonly Stage[], stage: Stage): Stage[] {
  const needed: Stage[] = [];
  const parent = parentStage(stages, stage);
  if (parent) needed.push(parent);
  for (const step of stage.steps) {
    if (step.kind !== 'copy' || step.from === undefined) continue;
    const source = stageNamed(stages, step.from, stage.index);
    if (!source) {
      throw new DockerfileError(
        `Dockerfile line ${step.line}: COPY --from=${step.from} names no earlier stage (copying from an outside image is not supported by the image check)`,
      );
    }
    if (!needed.includes(source)) needed.push(source);
  }
  return needed;
}

/**
 * The images the Dockerfile exists to build: named stages no other stage builds on or copies from
 * (`docker build --target <name>`).
 */
export function imageTargets(stages: readonly Stage[]): Stage[] {
  const used = new Set(stages.flatMap((s) => stageDependencies(stages, s)));
  return stages.filter((s) => s.name !== undefined && !used.has(s));
}

/** What a stage's image runs with: the configuration its steps (and its parents') leave behind. */
export interface ImageConfig {
  /** The base image the stage finally rests on. */
  baseImage: string;
  workdir: string;
  env: Record<string, string>;
  /** USER in effect (the base image's default, root, when none). */
  user: string;
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  labels: Record<string, string>;
  exposedPorts: string[];
}

export function imageConfig(stages: readonly Stage[], stage: Stage): ImageConfig {
  const parent = parentStage(stages, stage);
  const config: ImageConfig = parent
    ? structuredClone(imageConfig(stages, parent))
    : {
        baseImage: stage.from,
        workdir: '/',
        env: {},
        user: 'root',
        entrypoint: undefined,
        cmd: undefined,
        labels: {},
        exposedPorts: [],
      };
  let cmdSetHere = false;
  for (const step of stage.steps) {
    if (step.kind === 'cmd') cmdSetHere = true;
    // Docker: ENTRYPOINT resets a CMD inherited from the parent, not one set in this stage.
    if (step.kind === 'entrypoint' && !cmdSetHere) config.cmd = undefined;
    applyConfig(config, step);
  }
  return config;
}

/**
 * Applies one step's effect on the image configuration (files aside). The base image's own
 * configuration is not known here: node's images add ENTRYPOINT docker-entrypoint.sh, which runs
 * `node …` commands unchanged.
 */
export function applyConfig(config: ImageConfig, step: Step): void {
  switch (step.kind) {
    case 'workdir':
      config.workdir = step.path.startsWith('/')
        ? step.path
        : `${config.workdir.replace(/\/$/, '')}/${step.path}`;
      break;
    case 'env':
      for (const [name, value] of step.vars) config.env[name] = value;
      break;
    case 'user':
      config.user = step.user;
      break;
    case 'entrypoint':
      config.entrypoint = step.argv;
      break;
    case 'cmd':
      config.cmd = step.argv;
      break;
    case 'label':
      for (const [name, value] of step.labels) config.labels[name] = value;
      break;
    case 'expose':
      config.exposedPorts.push(...step.ports);
      break;
    default:
      break;
  }
}

/** The command an image runs by default: ENTRYPOINT followed by CMD. */
export function defaultCommand(config: ImageConfig): string[] {
  return [...(config.entrypoint ?? []), ...(config.cmd ?? [])];
}

/**
 * A `node` command line read as node reads it: the modules it preloads (`--require`/`-r`, paths as
 * written, a leading `./` dropped) and the script it runs. `undefined` for anything else (another
 * program, other node options).
 */
export function nodeCommand(argv: readonly string[]): { preloads: string[]; script: string } | undefined {
  if (argv[0] !== 'node') return undefined;
  const preloads: string[] = [];
  let at = 1;
  while (argv[at] === '--require' || argv[at] === '-r') {
    const module = argv[at + 1];
    if (module === undefined) return undefined;
    preloads.push(module.replace(/^\.\//, ''));
    at += 2;
  }
  const script = argv[at];
  return script === undefined || script.startsWith('-') ? undefined : { preloads, script };
}
