import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { withTraceOfForward } from '../forward-topics';
import { headerText, type KafkaRecord } from '../records';

const forwarding = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
});

const record = (headers: KafkaRecord['headers']): KafkaRecord => ({
  key: Buffer.from('k'),
  value: Buffer.from('{"id":"e-1"}'),
  headers,
  timestamp: '1700000000000',
});

describe("a forwarded record's trace", () => {
  it("a record sent without a traceparent gets the forward's, its own headers unchanged before it", () => {
    const baggage = { name: 'baggage', value: Buffer.from('sd-routing-key=abc') };
    const forwarded = withTraceOfForward(record([baggage]), forwarding);
    assert.equal(
      headerText(forwarded.headers, 'traceparent'),
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    );
    assert.deepEqual(forwarded.headers[0], baggage, 'the baggage is the bytes it came with');
    assert.equal(forwarded.headers.filter((h) => h.name === 'baggage').length, 1, 'no second baggage');
    assert.deepEqual(forwarded.value, Buffer.from('{"id":"e-1"}'));
  });

  it('a record that names its trace keeps it, byte for byte', () => {
    const own = record([
      { name: 'traceparent', value: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') },
    ]);
    assert.equal(withTraceOfForward(own, forwarding), own);
  });

  it('without a span to continue (tracing off) the record is left as it is', () => {
    const bare = record([]);
    assert.deepEqual(withTraceOfForward(bare, ROOT_CONTEXT).headers, []);
  });
});
