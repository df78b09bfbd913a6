import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

/**
 * Helpers for the Kubernetes manifest tests: run the offline validator (k8s/validate, built by
 * dev/bin/setup-k8s-tools.sh), read what it rendered, parse the Dockerfile, expand and read the
 * Signadot specs. The tests themselves are in __tests__/manifests.test.ts.
 */

/** The repository root (this file compiles to dev/dist/k8s/manifests.js). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');

export const VALIDATOR = path.join(REPO_ROOT, '.tools', 'bin', 'k8s-validate');
export const SETUP_HINT = 'run `bash dev/bin/setup-k8s-tools.sh` to build it';

// --- the parts of Kubernetes objects the tests read (the validator has already decoded every
// object strictly into the real k8s.io/api types, so these shapes can be trusted) ---------------

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}

export interface Probe {
  httpGet?: { path?: string; port: number | string };
  tcpSocket?: { port: number | string };
  grpc?: { port: number };
  exec?: { command: string[] };
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[] };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[]; defaultMode?: number };
  emptyDir?: { sizeLimit?: string };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext & {
    fsGroup?: number;
    runAsGroup?: number;
    seccompProfile?: { type: string };
  };
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
  enableServiceLinks?: boolean;
  restartPolicy?: string;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: spec shapes differ per kind; read through the helpers below.
  spec?: any;
}

export interface KustomizationReport {
  dir: string;
  ok: boolean;
  errors: string[];
  notes: string[];
  summary: string[];
  objects?: K8sObject[];
}

export interface ValidatorReport {
  ok: boolean;
  kustomizations: KustomizationReport[];
}

export interface ValidatorRun {
  status: number | null;
  report: ValidatorReport;
  stderr: string;
}

/** Throws, with the setup hint, when the validator binary is missing. */
export function requireValidator(): string {
  if (!existsSync(VALIDATOR)) {
    throw new Error(
      `the manifest validator ${path.relative(REPO_ROOT, VALIDATOR)} is missing: ${SETUP_HINT}`,
    );
  }
  return VALIDATOR;
}

/**
 * Runs k8s-validate with a JSON report and the rendered objects. Without `dirs` it validates
 * every kustomization under k8s/ (Components excluded: they are rendered by their users).
 */
export function runValidator(dirs: string[] = []): ValidatorRun {
  const bin = requireValidator();
  const result = spawnSync(bin, ['-root', REPO_ROOT, '-json', '-objects', ...dirs], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  if (result.error) throw result.error;
  let report: ValidatorReport;
  try {
    report = JSON.parse(result.stdout) as ValidatorReport;
  } catch {
    throw new Error(
      `k8s-validate exited ${result.status} without a JSON report:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return { status: result.status, report, stderr: result.stderr };
}

let cached: ValidatorRun | undefined;

/** The validator run over every kustomization of the repository (run once per test process). */
export function repoValidation(): ValidatorRun {
  cached ??= runValidator();
  return cached;
}

/** The report of one kustomization directory (relative to the repo root, e.g. "k8s/overlays/dev"). */
export function kustomization(dir: string): KustomizationReport {
  const found = repoValidation().report.kustomizations.find((k) => k.dir === dir);
  if (!found) throw new Error(`k8s-validate did not report ${dir}`);
  return found;
}

export function objectsOf(k: KustomizationReport, kind?: string): K8sObject[] {
  return (k.objects ?? []).filter((o) => kind === undefined || o.kind === kind);
}

export function findObject(k: KustomizationReport, kind: string, name: string): K8sObject | undefined {
  return objectsOf(k, kind).find((o) => o.metadata.name === name);
}

/** The pod template of a workload (Deployment, StatefulSet, Job, CronJob), else undefined. */
export function podTemplate(o: K8sObject): PodTemplate | undefined {
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template as PodTemplate | undefined;
  return o.spec?.template as PodTemplate | undefined;
}

/**
 * A workload of the kustomization with its pod template and main container (the one named like the
 * workload, else the first). @throws Error naming what is missing
 */
export function workloadOf(
  k: KustomizationReport,
  kind: string,
  name: string,
): { obj: K8sObject; tmpl: PodTemplate; main: Container } {
  const obj = findObject(k, kind, name);
  if (!obj) throw new Error(`${k.dir}: no ${kind} ${name}`);
  const tmpl = podTemplate(obj);
  if (!tmpl) throw new Error(`${k.dir}: ${kind} ${name} has no pod template`);
  const main = tmpl.spec.containers.find((c) => c.name === name) ?? tmpl.spec.containers[0];
  if (!main) throw new Error(`${k.dir}: ${kind} ${name} has no container`);
  return { obj, tmpl, main };
}

/** How the images start a workspace's program: OpenTelemetry preloaded, then the entry point. */
export function nodeCommand(workspace: string, entry: string, ...args: string[]): string[] {
  return ['node', '--require', `./${workspace}/dist/instrument.js`, `${workspace}/dist/${entry}`, ...args];
}

/**
 * The Secret entry a file path of the container reads: a key of a Secret volume mounted read-only at the
 * path's folder (with `items`, only the keys listed). Undefined when the path is no such file.
 */
export function secretFile(
  tmpl: PodTemplate,
  container: Container,
  file: string,
): { secret: string; key: string } | undefined {
  for (const mount of container.volumeMounts ?? []) {
    if (path.posix.dirname(file) !== mount.mountPath.replace(/\/+$/, '') || mount.readOnly !== true) continue;
    const volume = tmpl.spec.volumes?.find((v) => v.name === mount.name);
    if (!volume?.secret) continue;
    const name = path.posix.basename(file);
    const items = volume.secret.items;
    const key = items ? items.find((i) => i.path === name)?.key : name;
    if (key !== undefined) return { secret: volume.secret.secretName, key };
  }
  return undefined;
}

export function envOf(c: Container): Map<string, EnvVar> {
  return new Map((c.env ?? []).map((e) => [e.name, e]));
}

/** `registry.example.com/sandbox-routing/worker:abc` → `sandbox-routing/worker`. */
export function imageName(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const repo = colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
  const parts = repo.split('/');
  // Drop a registry host (first part with a dot or a port, or "localhost").
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0] ?? '')) parts.shift();
  return parts.join('/');
}

// --- Dockerfile -------------------------------------------------------------------------------

export interface DockerStage {
  from: string;
  target: string | undefined;
  /** Instruction lines of the stage (continuations joined). */
  lines: string[];
}

/** Splits a Dockerfile into stages (`FROM <image> [AS <target>]`), resolving `ARG` defaults in FROM. */
export function dockerStages(text: string): DockerStage[] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: DockerStage[] = [];
  for (const line of logical) {
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(line);
    if (from) {
      const image = (from[1] ?? '').replace(/\$\{?(\w+)\}?/g, (_, name: string) => args.get(name) ?? '');
      stages.push({ from: image, target: from[2]?.toLowerCase(), lines: [] });
      continue;
    }
    const arg = /^ARG\s+(\w+)=(\S+)/i.exec(line);
    if (arg && stages.length === 0) args.set(arg[1] ?? '', arg[2] ?? '');
    stages.at(-1)?.lines.push(line);
  }
  return stages;
}

/** The exec-form CMD (or ENTRYPOINT + CMD) a stage runs, following `FROM <earlier stage>`. */
export function stageCommand(stages: DockerStage[], target: string): string[] | undefined {
  const stage = stages.find((s) => s.target === target);
  if (!stage) return undefined;
  const exec = (keyword: string): string[] | undefined => {
    const line = [...stage.lines].reverse().find((l) => l.toUpperCase().startsWith(`${keyword} `));
    return line ? (JSON.parse(line.slice(keyword.length).trim()) as string[]) : undefined;
  };
  const entrypoint = exec('ENTRYPOINT');
  const cmd = exec('CMD');
  if (entrypoint) return entrypoint;
  return cmd;
}

/** The base image a stage finally rests on (following FROM <stage> chains). */
export function baseImage(stages: DockerStage[], target: string): string | undefined {
  let stage = stages.find((s) => s.target === target);
  const seen = new Set<string>();
  while (stage) {
    const parent = stages.find((s) => s.target !== undefined && s.target === stage?.from);
    if (!parent || seen.has(parent.target ?? '')) return stage.from;
    seen.add(parent.target ?? '');
    stage = parent;
  }
  return undefined;
}

/** The USER in effect at the end of a stage (following FROM <stage> chains). */
export function stageUser(stages: DockerStage[], target: string): string | undefined {
  let stage = stages.find((s) => s.target === target);
  while (stage) {
    const user = [...stage.lines].reverse().find((l) => /^USER\s/i.test(l));
    if (user) return user.slice(4).trim();
    const from = stage.from;
    stage = stages.find((s) => s.target === from);
  }
  return undefined;
}

// --- Signadot specs -----------------------------------------------------------------------------

export const SIGNADOT_DIR = path.join(REPO_ROOT, 'k8s', 'signadot');

/** The template variable syntax of the Signadot CLI (@{name}), as its config package defines it. */
export const TEMPLATE_VAR = /@\{([a-zA-Z][a-zA-Z0-9_.-]*)\}/g;
/** Anything that looks like a placeholder, to catch ones the CLI would not expand. */
const ANY_PLACEHOLDER = /@\{[^}]*\}/g;

export type SignadotKind = 'sandbox' | 'routegroup' | 'jobrunnergroup' | 'job';

/** The folder each kind of spec lives in; anything else under k8s/signadot is a sandbox spec. */
const KIND_FOLDERS: Readonly<Record<string, SignadotKind>> = {
  routegroups: 'routegroup',
  jobrunnergroups: 'jobrunnergroup',
  jobs: 'job',
};

export interface SignadotFile {
  /** Relative to the repo root. */
  file: string;
  kind: SignadotKind;
  text: string;
  /** Template variables used (@{var}). */
  vars: string[];
  /** Placeholders that are not valid CLI variables (should be none). */
  badPlaceholders: string[];
}

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'schema' ? [] : yamlFiles(full);
    return /\.ya?ml$/.test(e.name) ? [full] : [];
  });
}

/** Every Signadot spec under k8s/signadot (by folder: routegroups/, jobrunnergroups/, jobs/; the rest are sandboxes). */
export function signadotFiles(): SignadotFile[] {
  return yamlFiles(SIGNADOT_DIR)
    .sort()
    .map((full) => {
      const text = readFileSync(full, 'utf8');
      const rel = path.relative(REPO_ROOT, full);
      const vars = [...new Set([...text.matchAll(TEMPLATE_VAR)].map((m) => m[1] ?? ''))].sort();
      const valid = new Set([...text.matchAll(TEMPLATE_VAR)].map((m) => m[0]));
      const badPlaceholders = [...text.matchAll(ANY_PLACEHOLDER)]
        .map((m) => m[0])
        .filter((p) => !valid.has(p));
      const folder = rel.split(path.sep).find((part) => KIND_FOLDERS[part] !== undefined);
      const kind: SignadotKind = folder ? (KIND_FOLDERS[folder] as SignadotKind) : 'sandbox';
      return { file: rel, kind, text, vars, badPlaceholders };
    });
}

/** Representative values for the template variables, as a pipeline would pass them with --set. */
export function sampleValue(name: string): string {
  if (name === 'cluster') return 'staging-cluster';
  if (name === 'pr') return '4242';
  if (name === 'commit') return '0123456789abcdef0123456789abcdef01234567';
  if (name.endsWith('-image'))
    return `registry.example.com/sandbox-routing/${name.slice(0, -'-image'.length)}:0123456`;
  if (name === 'image') return 'registry.example.com/sandbox-routing/service:0123456';
  if (name === 'sandbox') return 'worker-orders-v2';
  if (name === 'user') return 'jane';
  if (name === 'rate') return '20';
  if (name === 'duration') return '60s';
  if (name === 'p99') return '2s';
  return 'x1';
}

/**
 * Parses a spec and expands @{var} the way `signadot sandbox apply --set` does: only inside
 * string values (keys are left alone), every occurrence, unknown variables being an error.
 */
export function expandSpec(text: string, values: Record<string, string>): unknown {
  const doc: unknown = parseYaml(text);
  const missing = new Set<string>();
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      return node.replace(TEMPLATE_VAR, (_, name: string) => {
        const v = values[name];
        if (v === undefined) missing.add(name);
        return v ?? '';
      });
    }
    if (Array.isArray(node)) return node.map(walk);
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    }
    return node;
  };
  const out = walk(doc);
  if (missing.size > 0) throw new Error(`unexpanded variables: ${[...missing].join(', ')}`);
  return out;
}

export interface SandboxSpec {
  name: string;
  spec: {
    cluster: string;
    labels?: Record<string, string>;
    forks?: {
      forkOf: { kind: string; namespace: string; name: string };
      customizations?: {
        images?: { image: string; container?: string }[];
        env?: { name: string; container?: string; value?: string }[];
      };
    }[];
    /** Workloads run on a developer's machine (`signadot local connect`) in place of a baseline. */
    local?: {
      name: string;
      from: { kind: string; namespace: string; name: string };
      mappings: { port: number; toLocal: string }[];
      env?: { name: string; value?: string }[];
    }[];
    defaultRouteGroup?: { endpoints?: { name: string; target: string }[] };
  };
}

export interface JobRunnerGroupSpec {
  name: string;
  spec: {
    cluster: string;
    namespace?: string;
    image?: string;
    /** A Kubernetes PodTemplateSpec. */
    podTemplate?: PodTemplate;
  };
}

export interface JobSpec {
  spec: {
    runnerGroup: string;
    script?: string;
    command?: string[];
    routingContext?: { sandbox?: string; routegroup?: string };
    uploadArtifact?: { path: string; meta?: Record<string, string> }[];
  };
}

export interface RouteGroupSpec {
  name: string;
  spec: {
    cluster: string;
    match: {
      label?: { key: string; value: string };
      any?: { label: { key: string; value: string } }[];
      all?: { label: { key: string; value: string } }[];
    };
    endpoints?: { name: string; target: string }[];
  };
}

/** Signadot label globs (`*` any run, `?` one character) as a RegExp. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Whether a RouteGroup's match selects a sandbox with these labels (signadot sandbox-matching rules). */
export function routeGroupMatches(
  match: RouteGroupSpec['spec']['match'],
  labels: Record<string, string>,
): boolean {
  const one = (m: { key: string; value: string }) =>
    labels[m.key] !== undefined && globToRegExp(m.value).test(labels[m.key] ?? '');
  if (match.label) return one(match.label);
  if (match.any) return match.any.some((m) => one(m.label));
  if (match.all) return match.all.every((m) => one(m.label));
  return false;
}

/** `http://ingress.sandbox-routing.svc:8081` → { service, namespace, port }. */
export function parseServiceTarget(
  target: string,
): { service: string; namespace: string; port: number } | undefined {
  const m = /^(?:https?|grpc):\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:(\d+)$/.exec(target);
  if (!m) return undefined;
  return { service: m[1] ?? '', namespace: m[2] ?? '', port: Number(m[3]) };
}
