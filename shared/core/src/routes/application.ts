/**
 * The application: its workloads (Signadot's unit of routing, a baseline Deployment or Rollout) and what
 * each serves: the Temporal task queues its workers poll and the Kafka (topic, consumer group) pairs its
 * consumers read. Declared once per application (DESIGN §9) and shared by every service of it, so any
 * caller can put work on the right copy of any workload. A queue or group nobody declared is left exactly
 * as the code wrote it.
 *
 * Pure code, no I/O: the service kit reads the declaration from a file (JSON or YAML).
 */
import { ownerOfTaskQueue, sharedQueueOf } from './ownership';
import { type Owner, sameWorkload, type WorkloadRef } from './types';

/** A Kafka consumer of a workload: the topic its baseline reads and the baseline's consumer group. */
export interface ConsumerDeclaration {
  topic: string;
  group: string;
}

export interface WorkloadDeclaration {
  /**
   * How the application names the workload (a DNS label): in logs, metrics labels and the names of
   * forward topics. Usually the baseline's name.
   */
  name: string;
  baseline: WorkloadRef;
  /** Shared task queues its workers poll; a fork of it polls `<queue>@<sandbox>`. */
  taskQueues: readonly string[];
  consumers: readonly ConsumerDeclaration[];
}

/** A task queue as the application reads it: whose it is, and which copy it stands for. */
export interface DeclaredQueue {
  workload: WorkloadDeclaration;
  /** The shared queue (`orders` for `orders@pr-1`). */
  sharedQueue: string;
  /** The copy the queue stands for: the baseline for the shared queue, else the sandbox after `@`. */
  owner: Owner;
}

/** Thrown for a declaration that cannot be used; the message names the field. */
export class InvalidApplicationError extends Error {
  override readonly name = 'InvalidApplicationError';
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Temporal task queue names: anything but empty; `@` is what sandbox queues add, so not in a shared one. */
const SHARED_QUEUE = /^[^@\s]{1,200}$/;
const KAFKA_NAME = /^[A-Za-z0-9._-]{1,249}$/;

export class Application {
  readonly workloads: readonly WorkloadDeclaration[];
  private readonly byQueue = new Map<string, WorkloadDeclaration>();

  /** @throws InvalidApplicationError naming what is wrong */
  constructor(workloads: readonly WorkloadDeclaration[]) {
    const names = new Set<string>();
    const consumers = new Set<string>();
    for (const [index, workload] of workloads.entries()) {
      const at = `workloads[${index}]`;
      if (!DNS_LABEL.test(workload.name))
        throw new InvalidApplicationError(`${at}.name: "${workload.name}" is not a DNS label`);
      if (names.has(workload.name))
        throw new InvalidApplicationError(`${at}.name: "${workload.name}" is declared twice`);
      names.add(workload.name);
      const { kind, namespace, name } = workload.baseline;
      if (!kind || !namespace || !name)
        throw new InvalidApplicationError(`${at}.baseline: kind, namespace and name are required`);
      if (workloads.slice(0, index).some((other) => sameWorkload(other.baseline, workload.baseline)))
        throw new InvalidApplicationError(`${at}.baseline: ${kind}/${namespace}/${name} is declared twice`);
      for (const queue of workload.taskQueues) {
        if (!SHARED_QUEUE.test(queue))
          throw new InvalidApplicationError(
            `${at}.taskQueues: "${queue}" is not a shared task queue (no "@", no spaces)`,
          );
        const owner = this.byQueue.get(queue);
        if (owner)
          throw new InvalidApplicationError(
            `${at}.taskQueues: "${queue}" is already served by workload "${owner.name}"; a queue belongs to one workload`,
          );
        this.byQueue.set(queue, workload);
      }
      for (const consumer of workload.consumers) {
        if (!KAFKA_NAME.test(consumer.topic) || !KAFKA_NAME.test(consumer.group))
          throw new InvalidApplicationError(`${at}.consumers: topic and group must be Kafka names`);
        const id = `${consumer.topic} ${consumer.group}`;
        if (consumers.has(id))
          throw new InvalidApplicationError(
            `${at}.consumers: topic "${consumer.topic}" in group "${consumer.group}" is declared twice`,
          );
        consumers.add(id);
      }
    }
    this.workloads = workloads;
  }

  /** A one-workload application: what a service that declares nothing else gets. */
  static of(workload: WorkloadDeclaration): Application {
    return new Application([workload]);
  }

  workload(name: string): WorkloadDeclaration | undefined {
    return this.workloads.find((w) => w.name === name);
  }

  ofBaseline(baseline: WorkloadRef): WorkloadDeclaration | undefined {
    return this.workloads.find((w) => sameWorkload(w.baseline, baseline));
  }

  /**
   * The declared workload behind `taskQueue` (a shared queue, or a sandbox's `<queue>@<sandbox>`), or
   * undefined for a queue nobody declared, which routing leaves alone.
   */
  queue(taskQueue: string): DeclaredQueue | undefined {
    const sharedQueue = sharedQueueOf(taskQueue);
    const workload = this.byQueue.get(sharedQueue);
    if (!workload) return undefined;
    const owner = ownerOfTaskQueue(sharedQueue, taskQueue);
    return owner ? { workload, sharedQueue, owner } : undefined;
  }

  /** The workload whose baseline reads `topic` in `group`. */
  consumer(topic: string, group: string): WorkloadDeclaration | undefined {
    return this.workloads.find((w) => w.consumers.some((c) => c.topic === topic && c.group === group));
  }

  /** Every workload's baseline (what one route table holds for the application). */
  baselines(): WorkloadRef[] {
    return this.workloads.map((w) => w.baseline);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(value: unknown, at: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw new InvalidApplicationError(`${at}: expected a list of strings`);
  return value as string[];
}

/**
 * An application from its parsed declaration (JSON or YAML):
 * ```yaml
 * workloads:
 *   - name: worker
 *     baseline: { kind: Deployment, name: worker }   # namespace: the default given
 *     taskQueues: [orders]
 *   - name: ingress
 *     baseline: { name: ingress }                     # kind: Deployment
 *     consumers: [{ topic: events, group: ingress }]
 * ```
 * @throws InvalidApplicationError naming the field
 */
export function parseApplication(
  value: unknown,
  defaults: { namespace: string; kind?: string },
): Application {
  if (!isRecord(value) || !Array.isArray(value.workloads))
    throw new InvalidApplicationError('workloads: expected a list of workloads');
  const workloads = value.workloads.map((entry, index): WorkloadDeclaration => {
    const at = `workloads[${index}]`;
    if (!isRecord(entry)) throw new InvalidApplicationError(`${at}: expected an object`);
    const baseline = isRecord(entry.baseline) ? entry.baseline : {};
    const text = (field: unknown, fallback: string | undefined) =>
      typeof field === 'string' && field !== '' ? field : fallback;
    const name = text(entry.name, text(baseline.name, undefined));
    if (!name) throw new InvalidApplicationError(`${at}.name: required (or baseline.name)`);
    const consumers = entry.consumers === undefined ? [] : entry.consumers;
    if (
      !Array.isArray(consumers) ||
      consumers.some((c) => !isRecord(c) || typeof c.topic !== 'string' || typeof c.group !== 'string')
    )
      throw new InvalidApplicationError(`${at}.consumers: expected a list of { topic, group }`);
    return {
      name,
      baseline: {
        kind: text(baseline.kind, defaults.kind ?? 'Deployment') as string,
        namespace: text(baseline.namespace, defaults.namespace) as string,
        name: text(baseline.name, name) as string,
      },
      taskQueues: strings(entry.taskQueues, `${at}.taskQueues`),
      consumers: (consumers as Record<string, string>[]).map((c) => ({
        topic: c.topic as string,
        group: c.group as string,
      })),
    };
  });
  return new Application(workloads);
}

/**
 * An application from its declaration file: JSON (`.json`) or YAML (anything else; the YAML parser is
 * loaded only then). Workloads' namespace and kind default as in {@link parseApplication}.
 * @throws InvalidApplicationError naming the file and what is wrong (missing, unreadable, malformed)
 */
export function readApplicationFile(
  file: string,
  defaults: { namespace: string; kind?: string },
): Application {
  const { existsSync, readFileSync } = require('node:fs') as typeof import('node:fs');
  if (!existsSync(file)) throw new InvalidApplicationError(`${file}: file not found`);
  const format = file.endsWith('.json') ? 'JSON' : 'YAML';
  let value: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    value = format === 'JSON' ? JSON.parse(text) : (require('yaml') as typeof import('yaml')).parse(text);
  } catch (error) {
    throw new InvalidApplicationError(`${file} is not valid ${format}: ${(error as Error).message}`);
  }
  try {
    return parseApplication(value, defaults);
  } catch (error) {
    if (error instanceof InvalidApplicationError)
      throw new InvalidApplicationError(`${file}: ${error.message}`);
    throw error;
  }
}
