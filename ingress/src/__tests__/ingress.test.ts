import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  mentionsRoutingKey,
  RouteserverResponseError,
  RouteTableNotSyncedError,
} from '@sandbox-routing/shared';
import { ServiceError } from '@temporalio/client';
import { consumerGroupOf } from '../app';
import { isRetriableStartError } from '../errors';
import { workflowIdFor } from '../workflows';

describe('ingress domain rules', () => {
  it('names consumer groups G for the baseline and G-<sandbox> for a fork', () => {
    assert.equal(consumerGroupOf('ingress', ''), 'ingress');
    assert.equal(consumerGroupOf('ingress', 'pr-42'), 'ingress-pr-42');
  });

  it('derives the workflow id from the event id only, so redeliveries collide', () => {
    const event = { id: 'e-1', type: 'order.created', time: '2026-01-01T00:00:00Z', payload: {} };
    assert.equal(workflowIdFor(event), 'evt-e-1');
    assert.equal(workflowIdFor({ ...event, time: '2027-01-01T00:00:00Z' }), 'evt-e-1');
  });

  it('backs off on unavailability and on an unsynced route table, but not on refusals', () => {
    const grpc = (code: number) => Object.assign(new Error('grpc'), { code, details: 'x', metadata: {} });
    assert.equal(
      isRetriableStartError(new ServiceError('start failed', { cause: grpc(14) })),
      true,
      'UNAVAILABLE',
    );
    assert.equal(
      isRetriableStartError(new ServiceError('start failed', { cause: grpc(4) })),
      true,
      'DEADLINE',
    );
    assert.equal(
      isRetriableStartError(new ServiceError('start failed', { cause: grpc(3) })),
      false,
      'INVALID_ARGUMENT',
    );
    assert.equal(isRetriableStartError(new RouteTableNotSyncedError(10)), true);
    assert.equal(isRetriableStartError(new RouteserverResponseError('bad', 404)), false);
    assert.equal(isRetriableStartError(new Error('connect ECONNREFUSED 127.0.0.1:7233')), true);
    assert.equal(isRetriableStartError(new TypeError('x is not a function')), false);
  });

  it('tells "no routing key" from "a routing key we cannot read"', () => {
    assert.equal(mentionsRoutingKey({ traceparent: 'x', baggage: 'user=alice' }), false);
    assert.equal(mentionsRoutingKey({ baggage: Buffer.from('sd-routing-key=bad\nkey') }), true);
    assert.equal(mentionsRoutingKey({ baggage: 'user=a, sd-sandbox = %%%' }), true);
    assert.equal(mentionsRoutingKey({ 'uberctx-sd-routing-key': '' }), true);
    assert.equal(mentionsRoutingKey({ tracestate: 'vendor=1,sd-routing-key=' }), true);
    assert.equal(mentionsRoutingKey(undefined), false);
  });
});
