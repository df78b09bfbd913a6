import type { Schema } from 'convict';

/** Where trail records go and how many may wait (worker side). */
export interface TrailConfig {
  /** Publish trail records at all. */
  enabled: boolean;
  /** The results topic. */
  topic: string;
  /** Most records held while Kafka is away; more are dropped and counted. */
  bufferSize: number;
}

/** The results topic setting alone, for readers of the trail (console, load tests). */
export function resultsTopicSchema(): Schema<{ topic: string }>['topic'] {
  return {
    doc: 'Topic of the trail records (workflow and activity results) that the worker publishes.',
    format: 'kafka-name',
    default: 'events.results',
    env: 'KAFKA_RESULTS_TOPIC',
  };
}

export function trailSchema(): Schema<TrailConfig> {
  return {
    enabled: {
      doc: 'Publish a trail record per workflow run and activity attempt to the results topic.',
      format: 'strict-boolean',
      default: true,
      env: 'TRAIL_ENABLED',
    },
    topic: resultsTopicSchema(),
    bufferSize: {
      doc: 'Most trail records held while Kafka is unreachable; beyond it records are dropped and counted.',
      format: 'positive-int',
      default: 10_000,
      env: 'TRAIL_BUFFER_SIZE',
    },
  };
}
