import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Application } from '@sandbox-routing/core';
import { sampleApplication } from '@sandbox-routing/sample';
import {
  type KafkaConfig,
  kafkaSchema,
  type LoadConfigOptions,
  loadApplication,
  loadConfig,
  type RoutedServiceConfig,
  routedServiceSchema,
} from '@sandbox-routing/service-kit';
import type { MismatchPolicy } from '@sandbox-routing/temporal';
import type { Schema } from 'convict';
import { PRICING_VARIANTS, type PricingVariant } from './order';

/** Settings that only the worker has. */
export interface WorkerSettings {
  /**
   * Which behaviour of the sample domain this build runs: `standard`, or `v2` (the "pull request":
   * a 10% discount). Configuration rather than a code change, so one image can run as either.
   */
  variant: PricingVariant;
  /** What an activity that reached the wrong instance does (see `MismatchPolicy` in shared). */
  activityMismatchPolicy: MismatchPolicy;
  /** Record `SignadotRoutingKey` / `SignadotSandbox` on workflows the first-task check places. */
  recordSearchAttributes: boolean;
  /**
   * How long in-flight tasks may finish after SIGTERM before activities are cancelled. The process
   * allows itself {@link SHUTDOWN_CLEANUP_MARGIN_MS} more to close connections, then exits.
   */
  shutdownGraceMs: number;
  /**
   * A workflow bundle built ahead of time (`build-workflow-bundle.js`; the image has one), loaded
   * instead of bundling the workflow code at start. Empty: bundle at start (the dev path).
   */
  workflowBundle: string;
}

/** The worker's configuration: shared parts plus {@link WorkerSettings}. */
export interface WorkerConfig extends RoutedServiceConfig {
  worker: WorkerSettings;
  /** Where the trail records go (the brokers and client id of the shared Kafka settings). */
  kafka: Pick<KafkaConfig, 'brokers' | 'clientId' | 'security'>;
}

/**
 * Time the process keeps after the drain for the route table, health server, connection and
 * telemetry to close. Kubernetes' terminationGracePeriodSeconds must exceed grace + this margin.
 */
export const SHUTDOWN_CLEANUP_MARGIN_MS = 10_000;

const { brokers, clientId, security } = kafkaSchema({ clientId: 'worker' });

/** The worker's convict schema: every setting with its doc, default and environment variable. */
export const workerSchema: Schema<WorkerConfig> = {
  ...routedServiceSchema({ name: 'worker', port: 8082 }),
  worker: {
    variant: {
      doc: "Behaviour of the sample order domain: 'standard', or 'v2' (10% discount; the sandbox's change).",
      format: [...PRICING_VARIANTS],
      default: 'standard',
      env: 'WORKER_VARIANT',
    },
    activityMismatchPolicy: {
      doc:
        "What an activity that reached an instance that does not own it does: 'log' (run it, log and count " +
        "the mismatch) or 'retry' (fail the attempt benignly so the owner's worker takes it).",
      format: ['log', 'retry'],
      default: 'log',
      env: 'WORKER_ACTIVITY_MISMATCH_POLICY',
    },
    recordSearchAttributes: {
      doc:
        'Record the SignadotRoutingKey and SignadotSandbox search attributes on workflows the first-task ' +
        'check places (register them on the namespace), as the ingress does for the workflows it starts.',
      format: 'strict-boolean',
      default: true,
      env: 'WORKER_RECORD_SEARCH_ATTRIBUTES',
    },
    shutdownGraceMs: {
      doc: 'After SIGTERM, how long in-flight tasks may finish before activities are cancelled, in ms.',
      format: 'positive-ms',
      default: 30_000,
      env: 'WORKER_SHUTDOWN_GRACE_MS',
    },
    workflowBundle: {
      doc:
        'Path of a prebuilt workflow bundle (node worker/dist/build-workflow-bundle.js; the image sets it), ' +
        'relative to the working directory; empty: bundle the workflow code at start.',
      format: (value: unknown) => {
        if (typeof value !== 'string') throw new Error('must be a file path');
        if (value !== '' && !existsSync(path.resolve(value))) {
          throw new Error(`no file at ${path.resolve(value)} (build it, or leave the setting empty)`);
        }
      },
      default: '',
      env: 'WORKER_WORKFLOW_BUNDLE',
    },
  },
  kafka: { brokers, clientId, security },
};

/**
 * Loads and validates the worker's configuration (defaults, then `CONFIG_FILE`, then env), and that
 * the application it belongs to declares it (see {@link workerApplication}).
 * @throws ConfigError naming each invalid setting and its environment variable
 */
export function loadWorkerConfig(options?: LoadConfigOptions): WorkerConfig {
  const config = loadConfig(workerSchema, options);
  workerApplication(config);
  return config;
}

/**
 * The application the worker belongs to: `ROUTING_APPLICATION_FILE`, else the sample application
 * around this worker as configured; it must declare this worker's workload with the queue it polls.
 * @throws ConfigError naming the setting
 */
export function workerApplication(config: WorkerConfig): Application {
  const { baselineKind: kind, baselineNamespace: namespace, baselineName: name } = config.signadot;
  const own = {
    name: 'worker',
    baseline: { kind, namespace, name },
    taskQueues: [config.temporal.taskQueue],
    consumers: [],
  };
  return loadApplication(config.application, own, sampleApplication(namespace, { worker: own }));
}
