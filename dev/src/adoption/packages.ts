import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runProcess } from '@sandbox-routing/testkit';
import { REPO_ROOT } from '../stack/paths';

/** The library's packages as published: each folder under shared/ but the sample application's. */
export const LIBRARY_PACKAGES = ['core', 'temporal', 'kafka', 'trail', 'service-kit'] as const;
export type LibraryPackage = (typeof LIBRARY_PACKAGES)[number];

/** `npm pack`s the library's packages (as built: run `tsc -b` first) into a new folder; package → tarball. */
export async function packLibrary(): Promise<Record<LibraryPackage, string>> {
  const into = mkdtempSync(path.join(tmpdir(), 'sandbox-routing-packs-'));
  const run = await runProcess(
    'npm',
    [
      'pack',
      '--silent',
      ...LIBRARY_PACKAGES.flatMap((p) => ['--workspace', `shared/${p}`]),
      '--pack-destination',
      into,
    ],
    { cwd: REPO_ROOT, timeoutMs: 120_000 },
  );
  if (run.code !== 0) throw new Error(`npm pack failed: ${run.stderr}`);
  const tarballs = readdirSync(into);
  return Object.fromEntries(
    LIBRARY_PACKAGES.map((p) => {
      const tarball = tarballs.find((t) => t === `sandbox-routing-${p}-0.1.0.tgz`);
      if (!tarball) throw new Error(`npm pack made no tarball for ${p}: ${tarballs.join(', ')}`);
      return [p, path.join(into, tarball)];
    }),
  ) as Record<LibraryPackage, string>;
}

/** `npm install`s `specs` (tarballs, or what package.json lists when none) in `dir`, from the cache when it can. */
export async function npmInstall(dir: string, specs: readonly string[] = []): Promise<void> {
  const run = await runProcess(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs],
    { cwd: dir, timeoutMs: 600_000 },
  );
  if (run.code !== 0) throw new Error(`npm install in ${dir} failed:\n${run.stderr}`);
}
