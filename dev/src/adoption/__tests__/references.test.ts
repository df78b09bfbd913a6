import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../stack/paths';

/** Every TypeScript source under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory())
      return entry === 'node_modules' || entry === 'dist' ? [] : sources(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

const json = (file: string) => JSON.parse(readFileSync(path.join(REPO_ROOT, file), 'utf8'));

/**
 * A fresh clone builds with one `tsc -b`: each workspace's tsconfig references every workspace its sources
 * (tests included) import, so tsc builds those first, and its package.json declares them. A missing
 * reference only shows on a clean checkout (an old dist/ hides it), which is how CI once failed.
 */
describe('workspaces build from a clean checkout', () => {
  const workspaces: string[] = json('package.json').workspaces;
  const byName = new Map<string, string>(workspaces.map((ws) => [json(`${ws}/package.json`).name, ws]));

  for (const ws of workspaces) {
    it(`${ws} references and declares every workspace it imports`, () => {
      const tsconfig = json(`${ws}/tsconfig.json`) as { references?: { path: string }[] };
      const referenced = new Set(
        (tsconfig.references ?? []).map((r) => path.normalize(path.join(ws, r.path))),
      );
      const manifest = json(`${ws}/package.json`);
      const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }));
      const imported = new Set<string>();
      for (const file of sources(path.join(REPO_ROOT, ws, 'src'))) {
        for (const match of readFileSync(file, 'utf8').matchAll(/from '(@sandbox-routing\/[\w-]+)/g)) {
          if (match[1] && byName.has(match[1]) && byName.get(match[1]) !== ws) imported.add(match[1]);
        }
      }
      const problems = [...imported].flatMap((name) => [
        ...(referenced.has(byName.get(name) as string)
          ? []
          : [`tsconfig.json has no reference to ${byName.get(name)}`]),
        ...(declared.has(name) ? [] : [`package.json does not declare ${name}`]),
      ]);
      assert.deepEqual(problems, []);
    });
  }
});
