import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import type { Launch, Launcher, PythonProgram } from '../pipeline/launcher';
import type { AssembledImage } from './assemble';

/**
 * Running a program of an assembled image the way its container would: as the image's user, in its
 * WORKDIR, with the image's environment only, unable to write to the tree, with a private writable
 * directory standing in for /tmp (the k8s manifests run every image with runAsUser: 1000, a read-only
 * root file system and an emptyDir on /tmp).
 *
 * As root (CI), programs run as the image's uid/gid through `setpriv` (util-linux) and the tree stays
 * owned by root, as in the image. As another user (a developer), they run as that user and the tree is
 * made read-only with chmod. Either way they cannot write to the tree.
 */

export interface UserIds {
  uid: number;
  gid: number;
}

/** The users the check knows: root, `node` of the official node images (1000:1000), `uid[:gid]`. */
export function imageUser(user: string): UserIds {
  if (user === 'root' || user === '0') return { uid: 0, gid: 0 };
  if (user === 'node') return { uid: 1000, gid: 1000 };
  const numeric = /^(\d+)(?::(\d+))?$/.exec(user);
  if (numeric) {
    const uid = Number(numeric[1]);
    return { uid, gid: numeric[2] === undefined ? uid : Number(numeric[2]) };
  }
  throw new Error(`the image check knows the users root, node and uid[:gid], not "${user}"`);
}

export const isRoot = (): boolean => process.getuid?.() === 0;

function walk(p: string, visit: (file: string) => void): void {
  visit(p);
  if (lstatSync(p).isDirectory()) for (const entry of readdirSync(p)) walk(path.join(p, entry), visit);
}

/** Makes every file and folder under `dir` read-only (or writable again) for its owner too. */
function setWritable(dir: string, writable: boolean): void {
  walk(dir, (p) => {
    const stat = lstatSync(p);
    if (stat.isSymbolicLink()) return;
    chmodSync(p, writable ? stat.mode | 0o200 : stat.mode & ~0o222);
  });
}

/** Removes a scratch directory that `ImageRuntime.prepare` may have made read-only. */
export function removeScratch(dir: string): void {
  if (!existsSync(dir)) return;
  if (!isRoot()) setWritable(dir, true);
  // rm(1) removes a node_modules tree several times faster than rmSync.
  const rm = spawnSync('rm', ['-rf', dir]);
  if (rm.status !== 0) rmSync(dir, { recursive: true, force: true });
}

/** A `node_modules` above the tree would let a missing dependency resolve from outside the image. */
function assertNoOuterNodeModules(dir: string): void {
  for (let up = path.dirname(dir); ; up = path.dirname(up)) {
    const candidate = path.join(up, 'node_modules');
    if (existsSync(candidate)) {
      throw new Error(`${candidate} exists: node would resolve packages from it, outside the image tree`);
    }
    if (path.dirname(up) === up) return;
  }
}

/** Whether anyone may run `file`: it and every folder above it are executable by others. */
function executableByOthers(file: string): boolean {
  for (let p = file; ; p = path.dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0) return false;
    if (path.dirname(p) === p) return true;
  }
}

export class ImageRuntime implements Launcher {
  readonly user: UserIds;
  private readonly home: string;
  readonly tmp: string;
  /**
   * The node that stands for the image's own (in /usr/local/bin): one of the image's line when the check
   * has it (node-line.ts), else this machine's; or a copy of it the image's user can run.
   */
  private node: string;
  private readonly nodeCopy: string;

  constructor(
    readonly image: AssembledImage,
    scratch: string,
    node: string = process.execPath,
  ) {
    this.node = node;
    this.user = imageUser(image.config.user);
    this.home = path.join(scratch, 'home', image.target);
    this.tmp = path.join(scratch, 'tmp', image.target);
    this.nodeCopy = path.join(scratch, 'bin', 'node');
  }

  /** Whether programs really run as the image's user (only root can switch users). */
  get switchesUser(): boolean {
    return isRoot() && this.user.uid !== 0;
  }

  /** Locks the tree, makes HOME (read-only) and the /tmp stand-in, and checks node runs as the user. */
  prepare(): void {
    assertNoOuterNodeModules(this.image.root);
    mkdirSync(this.home, { recursive: true });
    mkdirSync(this.tmp, { recursive: true });
    chmodSync(this.home, 0o555);
    chmodSync(this.tmp, 0o700);
    if (this.switchesUser) {
      chownSync(this.tmp, this.user.uid, this.user.gid);
      // A node under a private folder (a checkout in /root, say) is out of the user's reach.
      if (!executableByOthers(this.node)) {
        if (!existsSync(this.nodeCopy)) {
          mkdirSync(path.dirname(this.nodeCopy), { recursive: true });
          copyFileSync(this.node, this.nodeCopy);
          chmodSync(this.nodeCopy, 0o755);
        }
        this.node = this.nodeCopy;
      }
      // The user must be able to reach the tree: every folder above it traversable.
      for (let up = path.dirname(this.image.root); up !== path.dirname(up); up = path.dirname(up)) {
        const stat = lstatSync(up);
        if ((stat.mode & 0o001) === 0) chmodSync(up, stat.mode | 0o005);
      }
    } else {
      setWritable(this.image.root, false);
    }
    const probe = this.command(['node', '-e', 'process.stdout.write(String(process.getuid()))'], {});
    const run = spawnSync(probe.command, probe.args, { cwd: probe.cwd, env: probe.env, encoding: 'utf8' });
    if (run.error || run.status !== 0) {
      throw new Error(
        `cannot run node as the image's user (${this.image.config.user}) in ${probe.cwd}: ${run.error?.message ?? run.stderr}` +
          (run.error ? ' (setpriv is part of util-linux)' : ''),
      );
    }
  }

  /** The node binary the image's programs run with. */
  get nodeExecutable(): string {
    return this.node;
  }

  /** A command as the image would run it (`node …` means the node chosen for the image). */
  command(argv: readonly string[], env: NodeJS.ProcessEnv): Launch {
    const [program, ...rest] = argv;
    if (!program) throw new Error('empty command');
    const executable = program === 'node' ? this.node : program;
    const fullEnv: NodeJS.ProcessEnv = {
      PATH: `${path.dirname(this.node)}:/usr/local/bin:/usr/bin:/bin`,
      HOME: this.home,
      TMPDIR: this.tmp,
      ...this.image.config.env,
      ...env,
    };
    if (!this.switchesUser) return { command: executable, args: rest, cwd: this.image.workdir, env: fullEnv };
    return {
      command: 'setpriv',
      args: [
        `--reuid=${this.user.uid}`,
        `--regid=${this.user.gid}`,
        '--clear-groups',
        '--no-new-privs',
        '--',
        executable,
        ...rest,
      ],
      cwd: this.image.workdir,
      env: fullEnv,
    };
  }

  /** `node [--require ./<preload>] <entry> args…` inside the image (the pipeline harness's way to start a program). */
  launch(entry: string, args: readonly string[], env: NodeJS.ProcessEnv, preload?: string): Launch {
    for (const file of preload ? [entry, preload] : [entry]) {
      if (!existsSync(path.join(this.image.workdir, file))) {
        throw new Error(`${file} is not in the ${this.image.target} image`);
      }
    }
    return this.command(['node', ...(preload ? ['--require', `./${preload}`] : []), entry, ...args], env);
  }

  /**
   * `python3 -m <module>` inside the image, whose ENV puts the program's folder on PYTHONPATH. `python3`
   * is this machine's (Debian's, /usr/bin), as `node` is: the image has its own in /usr/local/bin.
   */
  launchPython(program: PythonProgram, args: readonly string[], env: NodeJS.ProcessEnv): Launch {
    if (!this.hasPython(program)) {
      throw new Error(`${program.folder}/${program.module} is not in the ${this.image.target} image`);
    }
    return this.command(['python3', '-m', program.module, ...args], env);
  }

  /** Whether the image carries a Python program's package. */
  hasPython(program: PythonProgram): boolean {
    return existsSync(path.join(this.image.workdir, program.folder, program.module, '__main__.py'));
  }
}
