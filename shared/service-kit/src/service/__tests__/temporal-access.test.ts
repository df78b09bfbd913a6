import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { temporalAccessProblem } from '../temporal-connection';

/** What Temporal's core (rustls, tonic) said in the secured tests, one message per way a TLS refusal looks. */
const TRANSPORT =
  'Failed to call GetSystemInfo: code: \'Unknown error\', message: "transport error", source: ';

describe('temporalAccessProblem', () => {
  it('names the settings for every way the core reports a refused client certificate', () => {
    for (const ending of [
      'tonic::transport::Error(Transport, hyper::Error(Io, Custom { kind: UnexpectedEof, error: "peer closed connection without sending TLS close_notify" }))',
      'tonic::transport::Error(Transport, hyper::Error(Io, Os { code: 104, kind: ConnectionReset, message: "Connection reset by peer" }))',
      // Seen in CI: the core's first request written into the socket the server had just closed.
      'tonic::transport::Error(Transport, hyper::Error(Io, Custom { kind: BrokenPipe, error: "stream closed because of a broken pipe" }))',
      'tonic::transport::Error(Transport, hyper::Error(Canceled, "connection closed"))',
      // Seen in CI for a client without a certificate: the alert lost to the close, the request not yet sent.
      'tonic::transport::Error(Transport, hyper::Error(Canceled, "connection was not ready"))',
    ]) {
      const problem = temporalAccessProblem(new Error(TRANSPORT + ending));
      assert.match(problem ?? '', /TEMPORAL_TLS_CERT_FILE/, ending);
    }
  });

  it('says what is missing or untrusted when the TLS alert names it', () => {
    assert.match(
      temporalAccessProblem(new Error('received fatal alert: CertificateRequired')) ?? '',
      /requires a client certificate \(set TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE\)/,
    );
    assert.match(
      temporalAccessProblem(new Error('invalid peer certificate: UnknownIssuer')) ?? '',
      /not trusted .*TEMPORAL_TLS_CA_FILE/,
    );
  });

  it('leaves an outage alone: a reset without TLS, or a refused connection, is not about the settings', () => {
    assert.equal(temporalAccessProblem(new Error(`${TRANSPORT}ConnectionReset`), false), undefined);
    assert.equal(
      temporalAccessProblem(new Error(`${TRANSPORT}Os { code: 111, kind: ConnectionRefused }`)),
      undefined,
    );
  });
});
