import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

/**
 * What an image must contain besides its dependencies, derived from the repository rather than from
 * the Dockerfile, so that a file the Dockerfile forgets is noticed: the deployed workspaces, their
 * non-TypeScript files, and their command-line programs.
 */

/** The workspaces of the root package.json (in its order). */
export function workspaces(repoRoot: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    workspaces?: string[];
  };
  return manifest.workspaces ?? [];
}

/** Workspaces an image deploys: those whose compiled `dist/` it carries. */
export function deployedWorkspaces(repoRoot: string, imageWorkdir: string): string[] {
  return workspaces(repoRoot).filter((ws) => existsSync(path.join(imageWorkdir, ws, 'dist')));
}

/** Files git tracks under `dir` (relative to the repo root); a plain walk outside a git checkout. */
function trackedFiles(repoRoot: string, dir: string): string[] {
  const git = spawnSync('git', ['ls-files', '-z', '--', dir], { cwd: repoRoot, encoding: 'utf8' });
  if (git.status === 0) return git.stdout.split('\0').filter((f) => f !== '');
  const out: string[] = [];
  const visit = (relative: string) => {
    for (const entry of readdirSync(path.join(repoRoot, relative))) {
      if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
      const child = `${relative}/${entry}`;
      if (lstatSync(path.join(repoRoot, child)).isDirectory()) visit(child);
      else out.push(child);
    }
  };
  visit(dir);
  return out;
}

/** Sources, tests and build configuration: what a runtime never reads. */
const NOT_RUNTIME = [
  /(^|\/)__tests__\//,
  /\.test\.[cm]?[jt]s$/,
  /\.[cm]?tsx?$/,
  /(^|\/)tsconfig[^/]*\.json$/,
  /\.md$/,
  /(^|\/)\.[^/]+$/,
];

/** A tracked file a deployed workspace needs at run time, and where the image must have it. */
export interface Asset {
  /** In the repository, relative to its root. */
  source: string;
  /** In the image, relative to its WORKDIR: `src/…` files under `dist/` (the build puts them there). */
  inImage: string;
}

/**
 * The files of a workspace its image needs that are not compiled TypeScript: package.json, JSON
 * schemas, .proto files, static pages… A file under `src/` belongs under `dist/` (tsc emits imported
 * JSON there; anything else needs a build step that copies it), any other at the same path.
 */
export function runtimeAssets(repoRoot: string, workspace: string): Asset[] {
  return trackedFiles(repoRoot, workspace)
    .filter((file) => !NOT_RUNTIME.some((pattern) => pattern.test(file)))
    .map((source) => {
      const inWorkspace = source.slice(workspace.length + 1);
      const inImage = inWorkspace.startsWith('src/')
        ? `${workspace}/dist/${inWorkspace.slice('src/'.length)}`
        : source;
      return { source, inImage };
    });
}

/**
 * The files of a Python service's package (`<folder>/<module>/…`, tests and docs left out): the image
 * must carry each at the same path.
 */
export function pythonAssets(repoRoot: string, folder: string, module: string): Asset[] {
  return trackedFiles(repoRoot, `${folder}/${module}`)
    .filter((file) => !NOT_RUNTIME.some((pattern) => pattern.test(file)))
    .map((source) => ({ source, inImage: source }));
}

/** Why an asset in the image is not the repository's file, or undefined when it is (JSON: same data). */
export function assetMismatch(repoRoot: string, imageWorkdir: string, asset: Asset): string | undefined {
  const inImage = path.join(imageWorkdir, asset.inImage);
  if (!existsSync(inImage)) return `${asset.source} is missing (expected at ${asset.inImage})`;
  const expected = readFileSync(path.join(repoRoot, asset.source));
  const actual = readFileSync(inImage);
  const same = asset.source.endsWith('.json')
    ? isDeepStrictEqual(JSON.parse(expected.toString('utf8')), JSON.parse(actual.toString('utf8')))
    : expected.equals(actual);
  return same ? undefined : `${asset.inImage} differs from ${asset.source}`;
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (lstatSync(full).isDirectory()) return entry === '__tests__' ? [] : jsFiles(full);
    return entry.endsWith('.js') ? [full] : [];
  });
}

/**
 * The programs of a workspace's compiled output: top-level `dist/*.js` modules that nothing loads —
 * not the package's `main` or `exports`, not required (or `require.resolve`d) by another module of the
 * workspace. A service's main module, a command-line program.
 */
export function entryPoints(imageWorkdir: string, workspace: string): string[] {
  const dir = path.resolve(imageWorkdir, workspace);
  const dist = path.join(dir, 'dist');
  if (!existsSync(dist)) return [];
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    main?: string;
    exports?: unknown;
  };
  const loaded = new Set<string>();
  const add = (file: string) => {
    loaded.add(file);
    loaded.add(`${file}.js`);
  };
  if (manifest.main) add(path.resolve(dir, manifest.main));
  const exportTargets = JSON.stringify(manifest.exports ?? {}).match(/"\.\/[^"]+"/g) ?? [];
  for (const target of exportTargets) add(path.resolve(dir, JSON.parse(target) as string));
  for (const file of jsFiles(dist)) {
    const code = readFileSync(file, 'utf8');
    for (const match of code.matchAll(/require(?:\.resolve)?\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g)) {
      add(path.resolve(path.dirname(file), match[1] as string));
    }
  }
  return readdirSync(dist)
    .filter((file) => file.endsWith('.js') && !loaded.has(path.join(dist, file)))
    .map((file) => `${workspace}/dist/${file}`)
    .sort();
}
