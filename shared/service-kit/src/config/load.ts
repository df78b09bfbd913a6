import { existsSync, readFileSync } from 'node:fs';
import convict, { type Schema } from 'convict';
import { registerFormats } from './formats';
import { checkSecuredConnections } from './secured';

/** One invalid setting: its dotted name, the environment variable that sets it, and what is wrong. */
export interface ConfigProblem {
  setting: string;
  env: string | undefined;
  message: string;
}

/** Thrown at start-up when the configuration is invalid. Its message names every bad setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid configuration:\n${problems
        .map((p) => `  - ${p.setting}${p.env ? ` (env ${p.env})` : ''}: ${p.message}`)
        .join('\n')}`,
    );
  }
}

export interface LoadConfigOptions {
  /** Environment to read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Optional JSON file with settings (env overrides it); defaults to $CONFIG_FILE. */
  file?: string;
  /**
   * Read only these top-level sections of the file: for loading part of a service's settings (its
   * telemetry, before the rest of the service is loaded) from the file that holds them all.
   */
  fileSections?: readonly string[];
}

interface SchemaLeaf {
  env?: string;
  sensitive?: boolean;
  default: unknown;
}

function isLeaf(node: unknown): node is SchemaLeaf {
  return typeof node === 'object' && node !== null && 'default' in node;
}

/** Maps each dotted setting name to its schema leaf. */
function leaves(schema: object, prefix = ''): Map<string, SchemaLeaf> {
  const out = new Map<string, SchemaLeaf>();
  for (const [key, node] of Object.entries(schema)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (isLeaf(node)) out.set(name, node);
    else if (typeof node === 'object' && node !== null) for (const e of leaves(node, name)) out.set(...e);
  }
  return out;
}

/** convict's own echo of a rejected value; it leaves out falsy ones (0, "", NaN), so the loader echoes instead. */
const CONVICT_VALUE_SUFFIX = /: value was .*$/s;

/**
 * Turns convict's newline-separated error text into problems that name setting and env var, each with the
 * rejected value as the user wrote it (`writtenValue`), unless the setting is sensitive.
 */
function toProblems(
  error: Error,
  byName: Map<string, SchemaLeaf>,
  writtenValue: (setting: string, leaf: SchemaLeaf) => unknown,
): ConfigProblem[] {
  return error.message
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const undeclared = /configuration param '([^']+)' not declared in the schema/.exec(line);
      if (undeclared?.[1]) return { setting: undeclared[1], env: undefined, message: 'unknown setting' };
      const match = /^([\w.-]+): (.*)$/s.exec(line);
      const setting = match?.[1] ?? '(config)';
      const leaf = byName.get(setting);
      let message = (match?.[2] ?? line).replace(CONVICT_VALUE_SUFFIX, '');
      if (leaf && !leaf.sensitive) message += `, got ${describeValue(writtenValue(setting, leaf))}`;
      return { setting, env: leaf?.env, message };
    });
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * Builds, loads and strictly validates a configuration from a convict schema.
 * Precedence (lowest first): defaults, the JSON file, environment variables.
 * @throws ConfigError naming each invalid setting and its environment variable.
 */
export function loadConfig<T>(schema: Schema<T>, options: LoadConfigOptions = {}): T {
  registerFormats();
  const env = options.env ?? process.env;
  const byName = leaves(schema as object);
  const file = options.file ?? env.CONFIG_FILE;
  let config: convict.Config<T> | undefined;
  try {
    // args: [] so that command-line flags of the host process (a test runner, a CLI) are never read.
    config = convict(schema, { env, args: [] });
    if (file) {
      if (!existsSync(file)) {
        throw new ConfigError([
          { setting: 'CONFIG_FILE', env: 'CONFIG_FILE', message: `file not found: ${file}` },
        ]);
      }
      if (options.fileSections) {
        const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        config.load(Object.fromEntries(options.fileSections.filter((k) => k in all).map((k) => [k, all[k]])));
      } else {
        config.loadFile(file);
      }
    }
    config.validate({ allowed: 'strict' });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // The value as written: the environment's text when it set the setting, else what the file or default gave.
    const writtenValue = (setting: string, leaf: SchemaLeaf): unknown => {
      if (leaf.env !== undefined && env[leaf.env] !== undefined) return env[leaf.env];
      try {
        return config?.get(setting as never);
      } catch {
        return undefined;
      }
    };
    throw new ConfigError(toProblems(error as Error, byName, writtenValue));
  }
  const properties = config.getProperties();
  // Secured connections: files readable, pairs complete, a mechanism with its user (all at start).
  checkSecuredConnections(properties);
  return properties;
}

/** Human-readable, secret-free view of a configuration, for a start-up log line. */
export function redactConfig<T>(schema: Schema<T>, config: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, leaf] of leaves(schema as object)) {
    const value = name
      .split('.')
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], config);
    out[name] = leaf.sensitive && value ? '[redacted]' : value;
  }
  return out;
}

/** sysexits.h EX_CONFIG: the exit code for invalid configuration, so an orchestrator can tell "fix the settings" from a crash. */
export const EXIT_CONFIG_ERROR = 78;

/**
 * True when `error` (or one of its causes) says a server refused this process's credentials or TLS
 * settings (`KafkaAccessError`, `TemporalAccessError`: `retriable: false` and a name ending in
 * `AccessError`): like invalid configuration, something to fix in the settings, not to retry.
 */
export function isSettingsRefusal(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 10 && current instanceof Error; depth++) {
    if (current.name.endsWith('AccessError') && (current as { retriable?: unknown }).retriable === false)
      return true;
    current = current.cause;
  }
  return false;
}

/**
 * Runs `load`; when the configuration is invalid, prints the ConfigError's message (every bad setting
 * with its env var) with `printError` and returns undefined, for the caller to exit with its
 * configuration code. Any other error is thrown.
 */
export function loadConfigOrReport<T>(
  load: () => T,
  printError: (message: string) => void = console.error,
): T | undefined {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    printError(error.message);
    return undefined;
  }
}

/** {@link loadConfigOrReport} for a process's start: invalid configuration ends it with EXIT_CONFIG_ERROR. */
export function loadConfigOrExit<T>(load: () => T): T {
  const config = loadConfigOrReport(load);
  if (config === undefined) process.exit(EXIT_CONFIG_ERROR);
  return config;
}
