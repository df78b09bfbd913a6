import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consumerReadinessChecks, stopInOrder } from '../lifecycle';

describe('stopInOrder', () => {
  it('runs every step in order, waits for each, and logs a failed one without stopping the rest', async () => {
    const ran: string[] = [];
    const warnings: string[] = [];
    await stopInOrder({ warn: (fields, message) => warnings.push(`${message}: ${fields.error}`) }, [
      [
        'consumer stop',
        async () => {
          await new Promise((resolve) => setImmediate(resolve));
          ran.push('consumer');
        },
      ],
      [
        'trail close',
        async () => {
          ran.push('trail');
          throw new Error('brokers away');
        },
      ],
      [
        'probe stop',
        () => {
          ran.push('probe');
          throw new Error('already stopped');
        },
      ],
      ['health server close', async () => ran.push('health')],
    ]);
    assert.deepEqual(ran, ['consumer', 'trail', 'probe', 'health']);
    assert.deepEqual(warnings, ['trail close failed: brokers away', 'probe stop failed: already stopped']);
  });
});

describe('consumerReadinessChecks', () => {
  it('is ready only as a group member, with Kafka reachable, nothing backing off and not stopping', () => {
    const consumer = { state: 'member', backingOff: new Set<string>() };
    const kafka = { reachable: true };
    let stopping = false;
    const checks = consumerReadinessChecks(consumer, kafka, () => stopping);
    const failing = () => checks.filter((check) => !check.ready()).map((check) => check.name);
    assert.deepEqual(failing(), []);

    consumer.state = 'joining';
    kafka.reachable = false;
    consumer.backingOff.add('events/0');
    stopping = true;
    assert.deepEqual(failing(), ['consumer-member', 'kafka-reachable', 'not-backing-off', 'not-stopping']);
  });
});
