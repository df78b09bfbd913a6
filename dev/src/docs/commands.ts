import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../stack/paths';
import { type CodeBlock, codeBlocks, docPages } from './markdown';

/**
 * The shell commands the docs show, and what the docs test does with each: run it on the local stack
 * (safe and bounded), check it statically (with the reason it is not run), or skip it (the block says
 * why, with `<!-- docs-test: skip <reason> -->`). A command no rule knows is `unknown`: the test fails,
 * so a new kind of command in the docs gets a rule before it ships.
 */

export const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console']);

export interface DocCommand {
  page: string;
  /** 1-based line of the command's first line. */
  line: number;
  /** 1-based line of its code block's opening fence: commands of one block share a shell's variables. */
  blockLine: number;
  /** The command as the docs write it: continuation lines joined, comments dropped. */
  text: string;
  /** A `docs-test: skip` reason of its code block. */
  skipReason?: string;
}

/** Drops a `#` comment that is outside quotes and starts a word. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) {
      return line.slice(0, i);
    }
  }
  return line;
}

/** Splits at `&&` outside quotes: each part is a command of its own. */
function splitAndList(command: string): string[] {
  const parts: string[] = [];
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '&' && command[i + 1] === '&') {
      parts.push(command.slice(start, i).trim());
      start = i + 2;
      i++;
    }
  }
  parts.push(command.slice(start).trim());
  return parts.filter((part) => part !== '');
}

/** The commands of one shell code block (a `console` block: only its `$ ` lines). */
export function commandsOf(block: CodeBlock): DocCommand[] {
  const commands: DocCommand[] = [];
  const lines = block.text.split('\n');
  let pending: { line: number; text: string } | undefined;
  lines.forEach((raw, index) => {
    let source = raw;
    if (block.language === 'console' && !pending) {
      if (!source.startsWith('$ ')) return;
      source = source.slice(2);
    }
    const code = stripComment(source).trimEnd();
    if (code.trim() === '' && !pending) return;
    const line = block.line + 1 + index;
    const joined = pending ? `${pending.text} ${code.trim()}` : code.trim();
    const first = pending?.line ?? line;
    if (/\\$/.test(joined)) {
      pending = { line: first, text: joined.slice(0, -1).trimEnd() };
    } else if (/(\||&&)$/.test(joined)) {
      pending = { line: first, text: joined };
    } else {
      pending = undefined;
      for (const part of splitAndList(joined)) {
        commands.push({
          page: block.page,
          line: first,
          blockLine: block.line,
          text: part,
          ...(block.skipReason ? { skipReason: block.skipReason } : {}),
        });
      }
    }
  });
  return commands;
}

/** Every shell command of README.md and docs/*.md, in page order. */
export function docCommands(root = REPO_ROOT): DocCommand[] {
  return docPages(root).flatMap((page) =>
    codeBlocks(page, root)
      .filter((block) => SHELL_LANGUAGES.has(block.language))
      .flatMap(commandsOf),
  );
}

// --- what the test does with each command ------------------------------------------------------------

export type Plan =
  /** Sets up the shell for the block's later commands (variables, the stack's addresses); also run. */
  | { action: 'prelude'; kind: string }
  /** `untilOk`: run again until it succeeds, within `timeoutMs` (a readiness report that may lag). */
  | { action: 'run'; kind: string; timeoutMs: number; untilOk?: boolean }
  /** `check` returns what is wrong, or undefined. */
  | { action: 'check'; kind: string; reason: string; check: () => string | undefined }
  | { action: 'skip'; kind: string; reason: string }
  | { action: 'unknown' };

function rootPackageScripts(root: string): Record<string, string> {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  return pkg.scripts ?? {};
}

function scriptExists(name: string, root: string): string | undefined {
  return rootPackageScripts(root)[name] === undefined ? `package.json has no script "${name}"` : undefined;
}

function fileExists(relative: string, root: string): string | undefined {
  return existsSync(path.join(root, relative)) ? undefined : `${relative} does not exist`;
}

/** The stack CLI's `--help` lists the subcommand. */
function stackCommandExists(subcommand: string, root: string): string | undefined {
  const help = spawnSync(process.execPath, [path.join(root, 'dev/dist/stack/cli.js'), '--help'], {
    encoding: 'utf8',
  });
  const listed = new RegExp(`^\\s+${subcommand}\\b`, 'm').test(help.stdout ?? '');
  return listed ? undefined : `the stack CLI has no command "${subcommand}"`;
}

/** Every `-f <file>` / `--filename <file>` argument exists. */
function fileArgumentsExist(command: string, root: string): string | undefined {
  const files = [...command.matchAll(/(?:^|\s)(?:-f|--filename)\s+(\S+)/g)].map((m) => m[1] ?? '');
  return files.map((file) => fileExists(file, root)).find((problem) => problem !== undefined);
}

/** Test source files under the workspaces, relative to the root (for the runner's path fragments). */
function testSources(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.test\.ts$/.test(entry)) found.push(path.relative(root, full));
    }
  };
  for (const workspace of ['dev', 'producer', 'ingress', 'notifier', 'worker', 'shared', 'testkit']) {
    if (existsSync(path.join(root, workspace))) walk(path.join(root, workspace));
  }
  return found;
}

const PRODUCER_CLI =
  /^(?:\$P|npx sandbox-routing|node (?:--require \.\/producer\/dist\/instrument\.js )?producer\/dist\/cli\.js)\s+(\w+)/;

/** Decides what the docs test does with a command. Order matters: the first rule that matches wins. */
export function planFor(command: DocCommand, root = REPO_ROOT): Plan {
  const text = command.text;
  if (command.skipReason) return { action: 'skip', kind: 'opted out', reason: command.skipReason };

  // The shell's own set-up: the stack's addresses and variables later commands use.
  if (text === 'set -a; . .stack/env; set +a') return { action: 'prelude', kind: 'stack addresses' };
  if (/^[A-Z_]+='[^']*'$/.test(text)) return { action: 'prelude', kind: 'variable' };

  // npm scripts.
  const npmScript = /^npm (?:run (?:--silent )?([\w:-]+)|(test))\b(.*)$/.exec(text);
  if (npmScript) {
    const name = npmScript[1] ?? npmScript[2] ?? '';
    const rest = npmScript[3] ?? '';
    if (name === 'stack' && /^ -- up\s*$/.test(rest))
      return { action: 'run', kind: 'stack', timeoutMs: 120_000 };
    // Exits non-zero while a server is not ready, which a loaded 2-core machine's Temporal can briefly be.
    if (name === 'stack' && /^ -- status\s*$/.test(rest)) {
      return { action: 'run', kind: 'stack', timeoutMs: 60_000, untilOk: true };
    }
    if (name === 'stack') {
      const subcommand = /^ -- (\S+)/.exec(rest)?.[1] ?? '';
      return {
        action: 'check',
        kind: 'stack',
        reason: 'stops the stack the other commands use, or is a template: the stack CLI has the command',
        check: () => scriptExists(name, root) ?? stackCommandExists(subcommand, root),
      };
    }
    if (name === 'kafka') return { action: 'run', kind: 'Kafka tool', timeoutMs: 60_000 };
    if (name === 'console') {
      return {
        action: 'check',
        kind: 'long-running server',
        reason: 'serves until stopped (the console tests start it): the script exists',
        check: () => scriptExists(name, root),
      };
    }
    return {
      action: 'check',
      kind: 'suite, demo, build or benchmark',
      reason: 'runs for minutes or rebuilds what the tests run (.ci/run runs these): the script exists',
      check: () => scriptExists(name, root),
    };
  }
  if (/^printf .*\|\s*npm run --silent kafka -- console-producer\b/.test(text)) {
    return { action: 'run', kind: 'Kafka tool', timeoutMs: 60_000 };
  }

  // One-shot clients of the stack.
  if (/(^|\|\s*)kcat\s/.test(text) && (/\s-P\b/.test(text) || /\s-e\b/.test(text))) {
    return { action: 'run', kind: 'kcat one-shot', timeoutMs: 30_000 };
  }
  if (/^curl\s/.test(text) && /(localhost|127\.0\.0\.1):7778\b/.test(text)) {
    return { action: 'run', kind: 'routeserver stand-in', timeoutMs: 15_000 };
  }
  if (/^temporal workflow list\b/.test(text))
    return { action: 'run', kind: 'Temporal CLI', timeoutMs: 30_000 };

  // The project's CLIs.
  const producer = PRODUCER_CLI.exec(text);
  if (producer) {
    const count = Number(/--count\s+(\d+)/.exec(text)?.[1] ?? Number.NaN);
    if (producer[1] === 'publish' && count <= 10)
      return { action: 'run', kind: 'producer publish', timeoutMs: 60_000 };
    return {
      action: 'check',
      kind: `producer ${producer[1]}`,
      reason: 'a load, a long run or a server (its integration tests run it): the CLI is built',
      check: () => fileExists('producer/dist/cli.js', root),
    };
  }
  if (
    /^(?:node worker\/dist\/teardown\.js|npx sandbox-routing-worker-teardown) --sandbox [\w.-]+( --action [\w-]+)?( --dry-run)?$/.test(
      text,
    )
  ) {
    return { action: 'run', kind: 'worker teardown', timeoutMs: 60_000 };
  }
  if (
    /^(?:[A-Z_]+=\S+\s+)*(?:node ingress\/dist\/teardown\.js|npx sandbox-routing-ingress-teardown)\b/.test(
      text,
    )
  ) {
    return {
      action: 'check',
      kind: 'ingress teardown',
      reason:
        'waits for a baseline ingress to pass its fences (its integration tests run one): the CLI is built',
      check: () => fileExists('ingress/dist/teardown.js', root),
    };
  }
  const subset = /^node dev\/dist\/test-runner\.js\s+(\S+)$/.exec(text);
  if (subset) {
    const fragment = subset[1] ?? '';
    return {
      action: 'check',
      kind: 'test subset',
      reason: 'runs tests the suite runs anyway: the runner is built and the fragment names a test',
      check: () =>
        fileExists('dev/dist/test-runner.js', root) ??
        (testSources(root).some((file) => file.includes(fragment))
          ? undefined
          : `no test file matches ${fragment}`),
    };
  }

  // Cluster commands: not runnable here.
  const dockerBuild = /^docker build --target (\S+) .* \.$/.exec(text.replace(/\s*$/, ''));
  if (dockerBuild) {
    const target = dockerBuild[1] ?? '';
    return {
      action: 'check',
      kind: 'docker build',
      reason:
        'needs a container engine and a registry (npm run check:images builds each target without one): the Dockerfile has the target',
      check: () =>
        new RegExp(`^FROM\\s+\\S+\\s+AS\\s+${target}\\s*$`, 'im').test(
          readFileSync(path.join(root, 'Dockerfile'), 'utf8'),
        )
          ? undefined
          : `Dockerfile has no stage ${target}`,
    };
  }
  if (/^docker push\b/.test(text)) {
    return {
      action: 'check',
      kind: 'docker push',
      reason: 'needs a registry: nothing to check here',
      check: () => undefined,
    };
  }
  const kustomize = /^kubectl apply -k (\S+)$/.exec(text);
  if (kustomize) {
    const dir = kustomize[1] ?? '';
    return {
      action: 'check',
      kind: 'kubectl apply -k',
      reason: 'needs a cluster (the k8s tests validate the overlays offline): the kustomization exists',
      check: () => fileExists(path.join(dir, 'kustomization.yaml'), root),
    };
  }
  if (/^kubectl\s/.test(text)) {
    return {
      action: 'check',
      kind: 'kubectl',
      reason: 'needs a cluster: nothing to check here',
      check: () => undefined,
    };
  }
  if (/^(?:[A-Z_]+=\$\()?signadot\s/.test(text)) {
    return {
      action: 'check',
      kind: 'signadot',
      reason: 'needs a Signadot account and cluster: its file arguments exist',
      check: () => fileArgumentsExist(text, root),
    };
  }

  return { action: 'unknown' };
}

/**
 * The command as run on this machine's stack: the docs' default addresses (Kafka 9092, Temporal 7233 and
 * its TLS port 7235, the routeserver's 7778) become the stack's, which may have moved its ports.
 */
export function onStack(
  command: string,
  stack: { kafkaBroker: string; temporal: string; temporalTls?: string; routeserver: string },
): string {
  let result = command
    .replace(/\b127\.0\.0\.1:9092\b/g, stack.kafkaBroker)
    .replace(/\b127\.0\.0\.1:7233\b/g, stack.temporal)
    .replace(/\b(?:localhost|127\.0\.0\.1):7778\b/g, stack.routeserver);
  if (stack.temporalTls) result = result.replace(/\b127\.0\.0\.1:7235\b/g, stack.temporalTls);
  // curl exits 0 on an HTTP error; an answer the docs do not expect must fail the run.
  return result.replace(/^curl /, 'curl --fail --silent --show-error ');
}
