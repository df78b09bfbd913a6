import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * Which copy of each package a workspace gets at run time, found the way Node's `require` finds it
 * (`node_modules` of the requiring package's folder, then of each folder above, never above the tree's
 * root). Comparing the result for an image's tree with the result for the tested checkout shows every
 * package the image would load in another version, or not at all — for example a workspace's own
 * `node_modules` left out, so a hoisted older major version is loaded instead.
 */

interface Manifest {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const readManifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;

/** Node's lookup of `name` from a package folder, bounded by the tree's root; undefined when not found. */
function lookUp(root: string, from: string, name: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dir === root || !dir.startsWith(`${root}${path.sep}`)) return undefined;
  }
}

/**
 * Every dependency edge reachable from `workspace` (a folder under `root`): `"<package folder> →
 * <name>"` mapped to `"<folder>@<version>"`, or `missing` (`missing, optional` for optional ones).
 * Folders are relative to the root.
 */
export function dependencyClosure(root: string, workspace: string): Map<string, string> {
  const realRoot = realpathSync(root);
  const edges = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [realpathSync(path.join(root, workspace))];
  const relative = (dir: string) => path.relative(realRoot, dir).split(path.sep).join('/') || '.';
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    if (seen.has(dir)) continue;
    seen.add(dir);
    const manifest = readManifest(dir);
    const optional = new Set([
      ...Object.keys(manifest.optionalDependencies ?? {}),
      ...Object.entries(manifest.peerDependenciesMeta ?? {})
        .filter(([, meta]) => meta.optional)
        .map(([name]) => name),
    ]);
    const names = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    for (const name of [...names].sort()) {
      const found = lookUp(realRoot, dir, name);
      const key = `${relative(dir)} → ${name}`;
      if (!found) {
        edges.set(key, optional.has(name) ? 'missing, optional' : 'missing');
        continue;
      }
      edges.set(key, `${relative(found)}@${readManifest(found).version ?? '?'}`);
      queue.push(found);
    }
  }
  return edges;
}

/** The edges where the image resolves differently from the tested tree, as readable lines. */
export function closureDifferences(tested: Map<string, string>, image: Map<string, string>): string[] {
  // In the order the tested tree reaches them: a workspace's own dependencies come first.
  const keys = [...new Set([...tested.keys(), ...image.keys()])];
  return keys
    .filter((key) => tested.get(key) !== image.get(key))
    .map(
      (key) =>
        `${key}: tested ${tested.get(key) ?? '(not reached)'}, image ${image.get(key) ?? '(not reached)'}`,
    );
}
