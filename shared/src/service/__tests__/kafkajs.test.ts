import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyKafkajsError,
  isKafkajsError,
  KAFKAJS_LOG_LEVEL,
  kafkajsLogCreator,
  kafkajsLogLevel,
} from '../kafkajs';
import { startReachabilityProbe } from '../probe';

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
