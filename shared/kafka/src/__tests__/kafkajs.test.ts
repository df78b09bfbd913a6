import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { startReachabilityProbe } from '@sandbox-routing/service-kit';
import {
  classifyKafkajsError,
  isKafkajsError,
  KAFKAJS_LOG_LEVEL,
  type KafkajsLogEntry,
  kafkajsLogCreator,
  kafkajsLogLevel,
} from '../kafkajs-log';

/** An error shaped as kafkajs makes them (name, retriable, the broker's type, a cause). */
function kafkajsError(
  name: string,
  fields: { retriable?: boolean; type?: string; cause?: Error } = {},
): Error {
  const error = new Error(`${name} happened`, fields.cause ? { cause: fields.cause } : undefined);
  error.name = name;
  return Object.assign(error, { retriable: fields.retriable ?? true, type: fields.type });
}

describe('classifyKafkajsError', () => {
  it('tells permanent refusals from outages, by the root cause', () => {
    const tooLarge = kafkajsError('KafkaJSProtocolError', { retriable: false, type: 'MESSAGE_TOO_LARGE' });
    assert.deepEqual(classifyKafkajsError(tooLarge), {
      reason: 'too-large',
      retriable: false,
      message: tooLarge.message,
    });
    const denied = kafkajsError('KafkaJSProtocolError', {
      retriable: false,
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
    assert.equal(classifyKafkajsError(denied).reason, 'not-authorized');
    const invalid = kafkajsError('KafkaJSProtocolError', { retriable: false, type: 'INVALID_RECORD' });
    assert.equal(classifyKafkajsError(invalid).reason, 'invalid-record');
  });

  it('retries exhausted on an outage are still an outage (kafkajs marks them non-retriable)', () => {
    const refused = kafkajsError('KafkaJSConnectionError', { retriable: true });
    const exhausted = kafkajsError('KafkaJSNumberOfRetriesExceeded', { retriable: false, cause: refused });
    assert.deepEqual(classifyKafkajsError(exhausted), {
      reason: 'unavailable',
      retriable: true,
      message: refused.message,
    });
  });

  it('a group coordinator no broker could name is an outage, though kafkajs gives up on it', () => {
    // What the consumer crashed with while the broker restarted (tulios/kafkajs#1630).
    const notFound = kafkajsError('KafkaJSGroupCoordinatorNotFound', { retriable: false });
    const crash = kafkajsError('KafkaJSNonRetriableError', { retriable: false, cause: notFound });
    assert.deepEqual(classifyKafkajsError(crash), {
      reason: 'unavailable',
      retriable: true,
      message: notFound.message,
    });
  });

  it('names a missing topic, which a retry may find created', () => {
    const unknown = kafkajsError('KafkaJSProtocolError', {
      retriable: true,
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
    assert.deepEqual(
      {
        ...classifyKafkajsError(
          kafkajsError('KafkaJSNumberOfRetriesExceeded', { retriable: false, cause: unknown }),
        ),
      },
      { reason: 'unknown-topic', retriable: true, message: unknown.message },
    );
  });

  it('recognises kafkajs errors by their class names only', () => {
    assert.equal(isKafkajsError(kafkajsError('KafkaJSError')), true);
    assert.equal(isKafkajsError(new TypeError('boom')), false);
    assert.equal(isKafkajsError({ name: 'KafkaJSError' }), false, 'not an Error');
  });
});

describe('kafkajs log bridge', () => {
  it('maps levels and fields, dropping kafkajs timestamps', () => {
    const lines: [string, object, string][] = [];
    const at = (level: string) => (fields: object, message: string) => lines.push([level, fields, message]);
    const log = kafkajsLogCreator({
      error: at('error'),
      warn: at('warn'),
      info: at('info'),
      debug: at('debug'),
    })();
    log({
      namespace: 'Consumer',
      level: KAFKAJS_LOG_LEVEL.ERROR,
      log: { message: 'crash', timestamp: 't', groupId: 'g' },
    });
    log({ namespace: 'Producer', level: KAFKAJS_LOG_LEVEL.DEBUG, log: { message: 'sent' } });
    assert.deepEqual(lines, [
      ['error', { component: 'kafkajs.Consumer', groupId: 'g' }, 'crash'],
      ['debug', { component: 'kafkajs.Producer' }, 'sent'],
    ]);
    assert.equal(kafkajsLogLevel('info'), KAFKAJS_LOG_LEVEL.WARN, 'kafkajs info is chatty');
    assert.equal(kafkajsLogLevel('trace'), KAFKAJS_LOG_LEVEL.DEBUG);
    assert.equal(kafkajsLogLevel('silent'), KAFKAJS_LOG_LEVEL.NOTHING);
  });
});

describe('kafkajs log bridge: a broker away is not a stream of errors', () => {
  /** What kafkajs logs, per client, while its broker is away (seen in the outages test). */
  const refused = (clock: { now: number }, log: (entry: KafkajsLogEntry) => void) => {
    log({
      namespace: 'Connection',
      level: KAFKAJS_LOG_LEVEL.ERROR,
      log: {
        message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092',
        broker: '127.0.0.1:9092',
        stack: 'Error: connect ECONNREFUSED\n    at TCPConnectWrap.afterConnect',
      },
    });
    log({
      namespace: 'BrokerPool',
      level: KAFKAJS_LOG_LEVEL.ERROR,
      log: {
        message: `Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:9092`,
        retryCount: clock.now % 7,
        retryTime: clock.now % 1000,
      },
    });
  };

  function bridge(repeatWindowMs = 60_000) {
    const clock = { now: 0 };
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const at = (level: string) => (fields: object, message: string) =>
      lines.push({ level, fields: fields as Record<string, unknown>, message });
    const log = kafkajsLogCreator(
      { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') },
      { repeatWindowMs, now: () => clock.now },
    )();
    return { clock, lines, log };
  }

  it('writes each condition of a 24 s outage once, as a warning, and once more when it cleared, with its count', (t) => {
    mock.timers.enable({ apis: ['setInterval'] });
    t.after(() => mock.timers.reset());
    const { clock, lines, log } = bridge();
    // 24 s: every client retries every 300 ms to 5 s; the consumer crashes and restarts twice.
    for (clock.now = 0; clock.now <= 24_000; clock.now += 400) {
      refused(clock, log);
      if (clock.now % 12_000 === 0) {
        log({
          namespace: 'Consumer',
          level: KAFKAJS_LOG_LEVEL.ERROR,
          log: {
            message: 'Crash: KafkaJSNonRetriableError: Connection error: connect ECONNREFUSED 127.0.0.1:9092',
            groupId: 'g',
          },
        });
        log({
          namespace: 'Consumer',
          level: KAFKAJS_LOG_LEVEL.ERROR,
          log: { message: 'Restarting the consumer in 300ms', groupId: 'g' },
        });
      }
    }
    const during = lines.splice(0);
    assert.deepEqual(
      during.map((l) => [l.level, l.fields.component]),
      [
        ['warn', 'kafkajs.Connection'],
        ['warn', 'kafkajs.BrokerPool'],
        ['warn', 'kafkajs.Consumer'],
        ['warn', 'kafkajs.Consumer'],
      ],
      'one warning per condition, no error',
    );
    assert.equal(during[0]?.fields.stack, undefined, 'no stack for a refused connection');

    // The broker is back: nothing more comes; a window later each condition says it cleared.
    clock.now += 60_000;
    mock.timers.tick(60_000);
    assert.deepEqual(
      lines.map((l) => [l.level, l.fields.component, l.fields.total]),
      [
        ['info', 'kafkajs.Connection', 61],
        ['info', 'kafkajs.BrokerPool', 61],
        ['info', 'kafkajs.Consumer', 3],
        ['info', 'kafkajs.Consumer', 3],
      ],
    );
    assert.match(lines[0]?.message ?? '', /not seen for 60 s; 61 times in all/);
  });

  it('writes a condition that lasts longer than the window once per window, with the count', () => {
    const { clock, lines, log } = bridge(10_000);
    for (clock.now = 0; clock.now < 30_000; clock.now += 1000) refused(clock, log);
    const connection = lines.filter((l) => l.fields.component === 'kafkajs.Connection');
    assert.deepEqual(
      connection.map((l) => [l.level, l.fields.repeated]),
      [
        ['warn', undefined],
        ['warn', 10],
        ['warn', 10],
      ],
    );
  });

  it('calls what a broker restart, a leader election or a rebalance causes a warning', () => {
    const { lines, log } = bridge();
    for (const message of [
      "Crash: KafkaJSProtocolError: The coordinator is loading and hence can't process requests for this group",
      'Crash: KafkaJSNonRetriableError: Failed to find group coordinator',
      'The group is rebalancing, so a rejoin is needed',
      'Response Metadata(key: 3, version: 6)',
    ]) {
      log({
        namespace: 'Consumer',
        level: KAFKAJS_LOG_LEVEL.ERROR,
        log: {
          message,
          error:
            'There is no leader for this topic-partition as we are in the middle of a leadership election',
        },
      });
    }
    assert.deepEqual(
      lines.map((l) => l.level),
      ['warn', 'warn', 'warn', 'warn'],
    );
  });

  it('keeps an unexpected error an error (with its stack), and does not repeat it within the window', () => {
    const { clock, lines, log } = bridge();
    const tooLarge = {
      namespace: 'Connection',
      level: KAFKAJS_LOG_LEVEL.ERROR,
      log: {
        message: 'Response Produce(key: 0, version: 7)',
        error: 'The request included a message larger than the max message size the server will accept',
        stack: 'KafkaJSProtocolError: ...',
      },
    };
    log(tooLarge);
    clock.now = 1000;
    log(tooLarge);
    assert.deepEqual(
      lines.map((l) => [l.level, l.fields.stack]),
      [['error', 'KafkaJSProtocolError: ...']],
    );
  });
});

describe('startReachabilityProbe', () => {
  it('is unreachable until a check succeeds, says so once per change, and times out hung checks', async () => {
    let answer: 'ok' | 'fail' | 'hang' = 'fail';
    const said: string[] = [];
    const probe = startReachabilityProbe({
      name: 'dep',
      check: () =>
        answer === 'ok'
          ? Promise.resolve()
          : answer === 'fail'
            ? Promise.reject(new Error('refused'))
            : new Promise(() => {}),
      intervalMs: 5,
      timeoutMs: 20,
      logger: { info: (_, message) => said.push(message), warn: (_, message) => said.push(message) },
    });
    const until = async (condition: () => boolean) => {
      const deadline = Date.now() + 2000;
      while (!condition()) {
        assert.ok(Date.now() < deadline, 'condition within 2 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    try {
      await until(() => probe.lastError === 'refused');
      assert.equal(probe.reachable, false);
      answer = 'ok';
      await until(() => probe.reachable);
      answer = 'hang';
      await until(() => !probe.reachable);
      assert.match(probe.lastError ?? '', /no answer within 20 ms/);
      assert.deepEqual(said, ['dep unreachable', 'dep reachable again', 'dep unreachable']);
    } finally {
      probe.stop();
    }
  });
});
