import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  mentionsRoutingKey,
  RouteserverResponseError,
  RouteTableNotSyncedError,
} from '@sandbox-routing/core';
import { consumerGroupOf } from '@sandbox-routing/kafka';
import {
  NamespaceNotFoundError,
  ServiceError,
  ValueError,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/client';
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

  it('dead-letters only answers that retrying cannot change; timeouts, cancellations and errors without a status are retried', () => {
    const grpc = (code: number) => Object.assign(new Error('grpc'), { code, details: 'x', metadata: {} });
    const failed = (code: number) => new ServiceError('Failed to start Workflow', { cause: grpc(code) });
    for (const [code, name] of [
      [1, 'CANCELLED'],
      [2, 'UNKNOWN'],
      [4, 'DEADLINE_EXCEEDED'],
      [8, 'RESOURCE_EXHAUSTED'],
      [10, 'ABORTED'],
      [13, 'INTERNAL'],
      [14, 'UNAVAILABLE'],
      [15, 'DATA_LOSS'],
      [16, 'UNAUTHENTICATED'],
    ] as const) {
      assert.equal(isRetriableStartError(failed(code)), true, name);
      assert.equal(isRetriableStartError(grpc(code)), true, `${name} without a ServiceError around it`);
    }
    for (const [code, name] of [
      [3, 'INVALID_ARGUMENT'],
      [5, 'NOT_FOUND'],
      [6, 'ALREADY_EXISTS'],
      [7, 'PERMISSION_DENIED'],
      [9, 'FAILED_PRECONDITION'],
      [11, 'OUT_OF_RANGE'],
      [12, 'UNIMPLEMENTED'],
    ] as const) {
      assert.equal(isRetriableStartError(failed(code)), false, name);
    }
    // The client turns NOT_FOUND for a namespace into an error of its own, without the status.
    assert.equal(isRetriableStartError(new NamespaceNotFoundError('nowhere')), false);
    // The event's arguments cannot be made into a request.
    assert.equal(isRetriableStartError(new ValueError('cannot convert')), false);
    assert.equal(isRetriableStartError(new RouteTableNotSyncedError(10)), true);
    assert.equal(isRetriableStartError(new RouteserverResponseError('bad', 404)), false);
    assert.equal(
      isRetriableStartError(new WorkflowExecutionAlreadyStartedError('started', 'evt-1', 'processOrder')),
      false,
    );
  });

  it('retries what does not say "no": an error without a gRPC status is not a refusal, whatever its text', () => {
    for (const message of [
      'connect ECONNREFUSED 127.0.0.1:7233',
      'invalid argument',
      'permission denied',
      'request timed out',
    ]) {
      assert.equal(isRetriableStartError(new Error(message)), true, message);
    }
    // What the Temporal client throws for a failure below gRPC (no status).
    assert.equal(
      isRetriableStartError(
        new ServiceError('Unexpected error while making gRPC request', {
          cause: new Error('socket hang up'),
        }),
      ),
      true,
    );
    assert.equal(isRetriableStartError(new TypeError('x is not a function')), true);
    assert.equal(isRetriableStartError(undefined), true);
    assert.equal(isRetriableStartError({ code: 3 }), true, 'a plain object is not a gRPC answer');
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
