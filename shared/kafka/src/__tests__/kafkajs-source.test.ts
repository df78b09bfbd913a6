import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { pollUntil } from '@sandbox-routing/testkit';
import {
  type Consumer,
  type Kafka,
  KafkaJSConnectionError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
} from 'kafkajs';
import { KafkajsSource } from '../adapter';
import type { ConsumerStateChange } from '../seam';

/**
 * A stand-in for a kafkajs consumer: records the calls the source makes and lets the test emit the
 * instrumentation events kafkajs emits (its CRASH payload: the error and whether kafkajs restarts).
 */
class ScriptedConsumer {
  readonly events = {
    CONNECT: 'consumer.connect',
    GROUP_JOIN: 'consumer.group_join',
    REBALANCING: 'consumer.rebalancing',
    CRASH: 'consumer.crash',
    STOP: 'consumer.stop',
    DISCONNECT: 'consumer.disconnect',
  };
  readonly calls: string[] = [];
  /** Between `run` and a crash or `disconnect`: kafkajs has a consumer group only then. */
  private running = false;
  /** Errors the next `connect` calls throw, one per call. */
  readonly connectFailures: Error[] = [];
  private readonly listeners = new Map<string, ((event: { payload: unknown }) => void)[]>();

  on(event: string, listener: (event: { payload: unknown }) => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  emit(event: string, payload: unknown = {}): void {
    // kafkajs disconnects (and drops its consumer group) before it reports a crash.
    if (event === this.events.CRASH) this.running = false;
    for (const listener of this.listeners.get(event) ?? []) listener({ payload });
  }

  async connect(): Promise<void> {
    this.calls.push('connect');
    const failure = this.connectFailures.shift();
    if (failure) throw failure;
  }

  async subscribe(): Promise<void> {
    this.calls.push('subscribe');
  }

  async run(): Promise<void> {
    this.calls.push('run');
    this.running = true;
    this.emit(this.events.GROUP_JOIN);
  }

  async disconnect(): Promise<void> {
    this.calls.push('disconnect');
    this.running = false;
  }

  /** kafkajs's `pause`, `seek` and `resume` throw while it has no consumer group (not running). */
  private groupCall(call: string): void {
    if (!this.running)
      throw new KafkaJSNonRetriableError(
        'Consumer group was not initialized, consumer#run must be called first',
      );
    this.calls.push(call);
  }
  pause(): void {
    this.groupCall('pause');
  }
  seek(): void {
    this.groupCall('seek');
  }
  resume(): void {
    this.groupCall('resume');
  }
}

function scriptedSource(): {
  source: KafkajsSource;
  consumer: ScriptedConsumer;
  changes: ConsumerStateChange[];
} {
  const consumer = new ScriptedConsumer();
  const kafka = { consumer: () => consumer as unknown as Consumer } as unknown as Kafka;
  const source = new KafkajsSource(kafka, {
    groupId: 'g',
    topic: 't',
    fromBeginning: true,
    restartBackoff: { initialMs: 10, maxMs: 40 },
  });
  const changes: ConsumerStateChange[] = [];
  source.onStateChange((change) => changes.push(change));
  return { source, consumer, changes };
}

/** kafkajs's error classes take the wrapped error and its cause, which its type declarations omit. */
type WrappingError = new (error: Error, options: { cause: Error }) => Error;

/** What kafkajs's consumer crashed with while the broker restarted (seen in the soak, tulios/kafkajs#1630). */
function coordinatorNotFoundCrash(): Error {
  const notFound = new (KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error)(
    'Failed to find group coordinator',
  );
  return new (KafkaJSNonRetriableError as unknown as WrappingError)(notFound, { cause: notFound });
}

/** Runs every timer the source set (a scheduled restart would be one), then lets its promises settle. */
async function runAllTimers(): Promise<void> {
  mock.timers.runAll();
  await new Promise((resolve) => setImmediate(resolve));
}

const runs = (consumer: ScriptedConsumer) => consumer.calls.filter((call) => call === 'run').length;

describe('kafkajs source: crashes kafkajs gives up on', () => {
  it('restarts the consumer itself when no broker could name the group coordinator (a broker restart)', async () => {
    const { source, consumer, changes } = scriptedSource();
    await source.start(async () => {});
    assert.equal(source.state, 'member');

    consumer.emit(consumer.events.CRASH, { error: coordinatorNotFoundCrash(), restart: false });
    assert.equal(source.state, 'crashed');
    assert.equal(changes.at(-1)?.restarting, true, 'reported as restarting: the ingress does not exit');
    await pollUntil(() => source.state === 'member', {
      description: 'the consumer to rejoin',
      timeoutMs: 5000,
      intervalMs: 5,
    });
    assert.equal(runs(consumer), 2);
    await source.stop();
  });

  it('keeps trying while the broker refuses connections, reporting each attempt as restarting', async () => {
    const { source, consumer, changes } = scriptedSource();
    await source.start(async () => {});
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    consumer.connectFailures.push(refused, refused);
    consumer.emit(consumer.events.CRASH, { error: coordinatorNotFoundCrash(), restart: false });
    await pollUntil(() => source.state === 'member', {
      description: 'the consumer to rejoin after two refused connects',
      timeoutMs: 5000,
      intervalMs: 5,
    });
    assert.equal(consumer.calls.filter((call) => call === 'connect').length, 4);
    assert.ok(changes.filter((c) => c.state === 'crashed').every((c) => c.restarting === true));
    await source.stop();
  });

  it('reports a permanent refusal as not restarting, and restarts nothing', async (t) => {
    t.after(() => mock.timers.reset());
    const { source, consumer, changes } = scriptedSource();
    mock.timers.enable({ apis: ['setTimeout'] });
    await source.start(async () => {});
    const refusal = new KafkaJSProtocolError({
      message: 'The group member protocol is not compatible',
      type: 'INCONSISTENT_GROUP_PROTOCOL',
      code: 23,
      retriable: false,
    } as never);
    consumer.emit(consumer.events.CRASH, {
      error: new (KafkaJSNonRetriableError as unknown as WrappingError)(refusal, { cause: refusal }),
      restart: false,
    });
    assert.equal(changes.at(-1)?.restarting, false);
    await runAllTimers();
    assert.equal(runs(consumer), 1);
  });

  it('leaves restarting to kafkajs when it restarts, and never restarts once stopped', async (t) => {
    t.after(() => mock.timers.reset());
    const { source, consumer, changes } = scriptedSource();
    mock.timers.enable({ apis: ['setTimeout'] });
    await source.start(async () => {});
    consumer.emit(consumer.events.CRASH, { error: coordinatorNotFoundCrash(), restart: true });
    assert.equal(changes.at(-1)?.restarting, true);
    await source.stop();
    consumer.emit(consumer.events.CRASH, { error: coordinatorNotFoundCrash(), restart: false });
    assert.equal(changes.at(-1)?.restarting, false, 'stopped: nobody restarts it');
    await runAllTimers();
    assert.equal(runs(consumer), 1);
  });
});

describe('kafkajs source: pause and resume while the consumer is not running', () => {
  it('neither throws nor rewinds while kafkajs has no consumer group (crashed, restart pending; stopped)', async (t) => {
    t.after(() => mock.timers.reset());
    const { source, consumer } = scriptedSource();
    mock.timers.enable({ apis: ['setTimeout'] });
    await source.start(async () => {});
    const partition = { topic: 't', partition: 0 };
    source.pause(partition, '5');
    assert.deepEqual(consumer.calls.slice(-2), ['pause', 'seek'], 'a running consumer is paused and rewound');

    // A start fails while the consumer is down: the restart reads from the committed offsets anyway.
    consumer.emit(consumer.events.CRASH, { error: coordinatorNotFoundCrash(), restart: false });
    assert.doesNotThrow(() => source.pause(partition, '6'));
    assert.doesNotThrow(() => source.resume(partition));
    await source.stop();
    assert.doesNotThrow(() => source.pause(partition, '7'));
    assert.equal(
      consumer.calls.filter((call) => call === 'pause').length,
      1,
      'only the running consumer paused',
    );
  });
});
