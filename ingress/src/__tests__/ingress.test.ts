import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  mentionsRoutingKey,
  RouteserverResponseError,
  RouteTableNotSyncedError,
} from '@sandbox-routing/shared';
import { ServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { isRetriableStartError } from '../errors';
import { consumerGroupOf } from '../sandbox-topics';
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
    const failed = (code: number) => new ServiceError('Failed to start Workflow', { cause: grpc(code) });
    for (const [code, name] of [
      [2, 'UNKNOWN'],
      [4, 'DEADLINE_EXCEEDED'],
      [8, 'RESOURCE_EXHAUSTED'],
      [10, 'ABORTED'],
      [13, 'INTERNAL'],
      [14, 'UNAVAILABLE'],
    ] as const) {
      assert.equal(isRetriableStartError(failed(code)), true, name);
      assert.equal(isRetriableStartError(grpc(code)), true, `${name} without a ServiceError around it`);
    }
    for (const [code, name] of [
      [1, 'CANCELLED'],
      [3, 'INVALID_ARGUMENT'],
      [5, 'NOT_FOUND'],
      [6, 'ALREADY_EXISTS'],
      [7, 'PERMISSION_DENIED'],
      [9, 'FAILED_PRECONDITION'],
      [12, 'UNIMPLEMENTED'],
      [16, 'UNAUTHENTICATED'],
    ] as const) {
      assert.equal(isRetriableStartError(failed(code)), false, name);
    }
    assert.equal(isRetriableStartError(new RouteTableNotSyncedError(10)), true);
    assert.equal(isRetriableStartError(new RouteserverResponseError('bad', 404)), false);
    assert.equal(
      isRetriableStartError(new WorkflowExecutionAlreadyStartedError('started', 'evt-1', 'processOrder')),
      false,
    );
  });

  it('never retries on message text: words like "connect" or "timed out" without a status are not outages', () => {
    for (const message of [
      'connect ECONNREFUSED 127.0.0.1:7233',
      'client disconnected',
      'reconnecting is not supported',
      'request timed out',
      'service unavailable',
    ]) {
      assert.equal(isRetriableStartError(new Error(message)), false, message);
    }
    assert.equal(isRetriableStartError(new TypeError('x is not a function')), false);
    assert.equal(isRetriableStartError(undefined), false);
    assert.equal(isRetriableStartError({ code: 14 }), false, 'a plain object is not a gRPC error');
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
