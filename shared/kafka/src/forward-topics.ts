import { type Context, context, defaultTextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { CARRIED_DECISION_HEADER, type CarriedDecision, formatCarriedDecision } from '@sandbox-routing/core';
import type { FieldLogger as Logger } from './kafkajs-log';
import { copyOf, type KafkaRecord, withHeader } from './records';
import { BrokerError, type MessageSink, type TopicAdmin, type TopicSpec } from './seam';

/**
 * The topic the baseline group `group` forwards a sandbox's records of `topic` to:
 * `<topic>.<group>.sandbox.<sandbox name>`. One per source topic, consumer group and sandbox, so forks of
 * different consumer workloads of one topic never see each other's copies, and a prefix
 * (`<topic>.<group>.`) covers one consumer's forwards (Kafka ACLs). Sandbox names are letters, digits and
 * dashes (at most 30) and group names Kafka names, so the result is a valid topic name.
 */
export function forwardTopicOf(topic: string, group: string, sandboxName: string): string {
  return `${topic}.${group}.sandbox.${sandboxName}`;
}

/** The consumer group of an instance: `G` for the baseline, `G-<sandbox>` for a fork (on its sandbox topic). */
export function consumerGroupOf(group: string, sandboxName: string): string {
  return sandboxName ? `${group}-${sandboxName}` : group;
}

const traceContext = new W3CTraceContextPropagator();

/**
 * `record` as it is when it names its trace (a `traceparent` header); else with the trace of the span
 * forwarding it added (`traceparent`, and `tracestate` if any). A record sent by hand without one would
 * otherwise start a second trace in the fork: the fork's consumption continues the baseline's, so the
 * event keeps one trace whose root is the baseline's consumption. Only W3C trace context is written:
 * the record's baggage (its routing key) stays the bytes it came with.
 */
export function withTraceOfForward(record: KafkaRecord, forwarding: Context = context.active()): KafkaRecord {
  if (record.headers.some((header) => header.name === 'traceparent')) return record;
  const carrier: Record<string, string> = {};
  traceContext.inject(forwarding, carrier, defaultTextMapSetter);
  return Object.entries(carrier).reduce((copy, [name, value]) => withHeader(copy, name, value), record);
}

/** What became of a record handed to {@link SandboxForwarder.forward}. */
export type ForwardResult =
  /** Appended to the sandbox's topic: its fork will process it. */
  | 'forwarded'
  /** The routeserver says the sandbox no longer forks this workload: process it on the baseline. */
  | 'sandbox-gone';

export interface SandboxForwarderOptions {
  sink: MessageSink;
  admin: Pick<TopicAdmin, 'ensureTopic' | 'topicExists'>;
  /** The source topic, and the baseline's consumer group: what the forward topics are named by. */
  eventsTopic: string;
  consumerGroup: string;
  /** Partitions, replication factor and config of the sandbox topics this creates. */
  topicSpec: (topic: string) => TopicSpec;
  /**
   * Asks the routeserver, now (no cached answer), whether `sandbox` still forks this consumer's
   * baseline workload. @throws RouteserverUnavailableError (retriable)
   */
  forksWorkload: (sandbox: string) => Promise<boolean>;
  logger: Logger;
}

/**
 * Forwards records to sandbox topics, creating a topic on first use. Two rules keep a record from
 * landing in a topic nobody will read:
 *
 * - A topic is created only after a fresh routeserver answer says its sandbox exists (a stale route
 *   snapshot must not resurrect the topic of a sandbox torn down a moment ago).
 * - After a fence (sandbox teardown), the sandbox is *retired* here: the next forward to it again needs
 *   a fresh answer, however the route snapshot looks.
 */
export class SandboxForwarder {
  private readonly knownTopics = new Set<string>();
  private readonly retired = new Set<string>();

  constructor(private readonly options: SandboxForwarderOptions) {}

  topicOf(sandbox: string): string {
    return forwardTopicOf(this.options.eventsTopic, this.options.consumerGroup, sandbox);
  }

  /**
   * Appends a copy of `record` to the sandbox's topic: byte for byte, plus one header holding the
   * decision (`sd-routing-decision`), which the fork honours, and the forward's trace context when the
   * record carried none. @throws BrokerError, RouteserverUnavailableError
   */
  async forward(record: KafkaRecord, sandbox: string, decision: CarriedDecision): Promise<ForwardResult> {
    const topic = this.topicOf(sandbox);
    if (this.retired.has(sandbox) || !this.knownTopics.has(topic)) {
      if (!(await this.options.forksWorkload(sandbox))) return 'sandbox-gone';
      this.retired.delete(sandbox);
      if (!this.knownTopics.has(topic)) {
        const created = await this.options.admin.ensureTopic(this.options.topicSpec(topic));
        if (created) this.options.logger.info({ topic, sandbox }, 'created sandbox topic');
        this.knownTopics.add(topic);
      }
    }
    await this.produce(
      topic,
      withHeader(withTraceOfForward(record), CARRIED_DECISION_HEADER, formatCarriedDecision(decision)),
    );
    return 'forwarded';
  }

  /**
   * Handles a fence marker for `sandbox`: when the routeserver confirms the sandbox is gone, retires
   * it and appends the marker to its topic (if that exists), telling the teardown that this partition
   * will forward nothing more. A sandbox that exists (again) is not fenced.
   */
  async fence(marker: KafkaRecord, sandbox: string): Promise<'fenced' | 'sandbox-exists'> {
    if (await this.options.forksWorkload(sandbox)) return 'sandbox-exists';
    this.retired.add(sandbox);
    const topic = this.topicOf(sandbox);
    // No topic: nothing was ever forwarded, or the teardown finished; either way nothing to fence.
    if (!(await this.options.admin.topicExists(topic))) return 'fenced';
    try {
      await this.produce(topic, copyOf(marker));
    } catch (error) {
      // Deleted since the check: the teardown is past its fence already.
      if (!(error instanceof BrokerError && error.reason === 'unknown-topic')) throw error;
    }
    return 'fenced';
  }

  private async produce(topic: string, record: KafkaRecord): Promise<void> {
    try {
      await this.options.sink.produce(topic, [record]);
    } catch (error) {
      // Deleted meanwhile (a teardown): the next attempt asks the routeserver again.
      if (error instanceof BrokerError && error.reason === 'unknown-topic') this.knownTopics.delete(topic);
      throw error;
    }
  }
}
