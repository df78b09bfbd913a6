import {
  Application,
  InvalidApplicationError,
  readApplicationFile,
  type WorkloadDeclaration,
} from '@sandbox-routing/core';
import type { Schema } from 'convict';
import { ConfigError } from './load';

export interface ApplicationConfig {
  /** The application's declaration (JSON or YAML); empty: the service's own workload alone. */
  file: string;
}

const ENV = 'ROUTING_APPLICATION_FILE';

export function applicationSchema(defaults: { file: string } = { file: '' }): Schema<ApplicationConfig> {
  return {
    file: {
      doc:
        'The application declaration (JSON or YAML): its workloads and the task queues and Kafka consumer ' +
        "groups each serves, so work aimed at another workload's queue goes to that workload's owner. " +
        "Empty: the service's own workload alone.",
      format: String,
      default: defaults.file,
      env: ENV,
    },
  };
}

function problem(message: string): ConfigError {
  return new ConfigError([{ setting: 'application.file', env: ENV, message }]);
}

/**
 * The application the service belongs to: the declaration in `config.file` (its workloads' namespace
 * defaults to `own`'s), or without a file `fallback` (a service's built-in declaration), else `own`
 * alone. It must declare `own` — the service's workload — with what `own` says it serves.
 * @throws ConfigError naming the setting: a missing or unreadable file, a bad declaration, or one that
 *   does not declare the service as it runs
 */
export function loadApplication(
  config: ApplicationConfig,
  own: WorkloadDeclaration,
  fallback?: Application,
): Application {
  const source = config.file || 'the built-in declaration';
  const application = config.file ? readApplication(config.file, own) : (fallback ?? Application.of(own));
  const declared = application.ofBaseline(own.baseline);
  const { kind, namespace, name } = own.baseline;
  if (!declared)
    throw problem(
      `${source} declares no workload with baseline ${kind}/${namespace}/${name} (this service's SIGNADOT_BASELINE_*); declare the application in ${ENV}`,
    );
  for (const queue of own.taskQueues) {
    if (!declared.taskQueues.includes(queue))
      throw problem(
        `${source}: workload "${declared.name}" does not list task queue "${queue}", which this service polls`,
      );
  }
  for (const consumer of own.consumers) {
    if (!declared.consumers.some((c) => c.topic === consumer.topic && c.group === consumer.group))
      throw problem(
        `${source}: workload "${declared.name}" does not list consumer ${consumer.topic} in group ${consumer.group}, which this service reads`,
      );
  }
  return application;
}

function readApplication(file: string, own: WorkloadDeclaration): Application {
  try {
    return readApplicationFile(file, { namespace: own.baseline.namespace });
  } catch (error) {
    if (error instanceof InvalidApplicationError) throw problem(error.message);
    throw error;
  }
}
