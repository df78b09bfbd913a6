import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkKafkaAccess, classifyKafkajsError, KafkaAccessError, kafkaAccessProblem } from '..';

/** A kafkajs-shaped error (kafkajs's classes are named `KafkaJS…`), with a cause. */
function kafkajsError(name: string, message: string, cause?: Error, retriable = true): Error {
  const error = new Error(message, cause ? { cause } : undefined) as Error & { retriable: boolean };
  error.name = name;
  error.retriable = retriable;
  return error;
}
function tlsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('refused Kafka credentials and TLS', () => {
  it('are not outages: not retriable, and the message names the settings to check', () => {
    const cases: [Error, RegExp][] = [
      [
        kafkajsError(
          'KafkaJSSASLAuthenticationError',
          'SASL SCRAM SHA256 authentication failed',
          undefined,
          false,
        ),
        /KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE/,
      ],
      [
        kafkajsError(
          'KafkaJSNumberOfRetriesExceeded',
          'Connection error',
          kafkajsError(
            'KafkaJSConnectionError',
            'Connection error',
            tlsError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'x'),
          ),
        ),
        /not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE; check KAFKA_TLS_CA_FILE/,
      ],
      [
        kafkajsError('KafkaJSConnectionError', 'x', tlsError('ERR_TLS_CERT_ALTNAME_INVALID', 'x')),
        /KAFKA_TLS_SERVER_NAME/,
      ],
      [
        kafkajsError('KafkaJSConnectionError', 'x', tlsError('ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'x')),
        /KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE/,
      ],
      [
        kafkajsError('KafkaJSConnectionError', 'x', tlsError('ERR_SSL_WRONG_VERSION_NUMBER', 'x')),
        /does not speak TLS on that port \(check KAFKA_BROKERS and KAFKA_TLS\)/,
      ],
    ];
    for (const [error, expected] of cases) {
      const classified = classifyKafkajsError(error);
      assert.equal(classified.retriable, false, error.message);
      assert.equal(classified.reason, 'not-authorized');
      assert.match(classified.message, expected);
    }
  });

  it('leave outages alone', () => {
    const refused = kafkajsError(
      'KafkaJSConnectionError',
      'x',
      tlsError('ECONNREFUSED', 'connect ECONNREFUSED'),
    );
    assert.equal(kafkaAccessProblem(refused), undefined);
    assert.equal(classifyKafkajsError(refused).retriable, true);
  });

  it('stop a start-up check, which lets an outage pass for the retries to wait out', async () => {
    const probe = (failure?: Error) => ({
      connect: async () => {
        if (failure) throw failure;
      },
      describeCluster: async () => ({}),
      disconnect: async () => undefined,
    });
    assert.equal(await checkKafkaAccess(probe()), 'ok');
    const outage = kafkajsError('KafkaJSConnectionError', 'x', tlsError('ECONNREFUSED', 'refused'));
    assert.equal(await checkKafkaAccess(probe(outage)), 'unreachable');
    const closed = kafkajsError('KafkaJSConnectionClosedError', 'Closed connection');
    await assert.rejects(checkKafkaAccess(probe(closed)), (error: Error) => {
      assert.ok(error instanceof KafkaAccessError);
      assert.match(error.message, /expects TLS or SASL \(check KAFKA_TLS, KAFKA_SASL_MECHANISM/);
      return true;
    });
    const sasl = kafkajsError('KafkaJSSASLAuthenticationError', 'failed', undefined, false);
    await assert.rejects(checkKafkaAccess(probe(sasl)), KafkaAccessError);
  });
});
