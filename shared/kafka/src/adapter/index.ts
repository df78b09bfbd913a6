/**
 * The kafkajs adapter of the Kafka seam (`../seam.ts`): the only place in the ingress that imports
 * kafkajs. Moving to another client means writing these four classes again for it.
 */

import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { checkKafkaAccess } from '../access';
import { type FieldLogger, kafkajsLogCreator, kafkajsLogLevel, type LogLevel } from '../kafkajs-log';
import type { MessageSink, MessageSource, TopicAdmin } from '../seam';
import { KafkajsAdmin } from './admin';
import { KafkajsSink } from './sink';
import { KafkajsSource, type KafkajsSourceOptions } from './source';

export { KafkajsAdmin } from './admin';
export { toBrokerError } from './errors';
export { fromKafkajsHeaders, toKafkajsHeaders } from './headers';
export { KafkajsSink } from './sink';
export { KafkajsSource, type KafkajsSourceOptions, toConsumedRecord } from './source';

export interface KafkajsOptions {
  brokers: string[];
  clientId: string;
  /** kafkajs's own log lines go here, with `component: kafkajs.<namespace>`. */
  logger: FieldLogger;
  logLevel: LogLevel;
  /** TLS and SASL (service-kit's `kafkaSecurityOptions`); none: plaintext. */
  security?: KafkajsSecurity;
}

/** kafkajs's connection security options: TLS (`ssl`) and SASL. */
export type KafkajsSecurity = Pick<KafkaConfig, 'ssl' | 'sasl'>;

/** Everything the ingress reads and writes Kafka with. */
export interface KafkaClients {
  sink: MessageSink;
  admin: TopicAdmin;
  /** A separate admin client that never retries: for reachability probes, which must answer fast. */
  probe: TopicAdmin;
  source(options: KafkajsSourceOptions): MessageSource;
  /**
   * Connects once, without retries: throws `KafkaAccessError` naming the settings to check when Kafka
   * refuses the credentials or TLS; `unreachable` when no broker answered (an outage, waited out).
   */
  checkAccess(): Promise<'ok' | 'unreachable'>;
  close(): Promise<void>;
}

export function kafkajsClients(options: KafkajsOptions): KafkaClients {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...options.security,
    logLevel: kafkajsLogLevel(options.logLevel),
    logCreator: kafkajsLogCreator(options.logger),
  });
  // Quiet: while the brokers are away it fails every round, and the probe logs the change once itself.
  const probeKafka = new Kafka({
    clientId: `${options.clientId}-probe`,
    brokers: options.brokers,
    ...options.security,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  });
  const sink = KafkajsSink.create(kafka);
  const admin = KafkajsAdmin.create(kafka);
  const probe = new KafkajsAdmin(probeKafka.admin({ retry: { retries: 0 } }));
  return {
    sink,
    admin,
    probe,
    source: (sourceOptions) => new KafkajsSource(kafka, sourceOptions),
    checkAccess: () => checkKafkaAccess(probeKafka.admin({ retry: { retries: 0 } })),
    async close() {
      await Promise.allSettled([sink.close(), admin.close(), probe.close()]);
    },
  };
}
