import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ROUTES_PROTO_PATH, routesServiceDefinition } from '../proto';

describe('routes.proto', () => {
  it("is found next to the compiled library and defines Signadot's three methods", () => {
    assert.ok(existsSync(ROUTES_PROTO_PATH), ROUTES_PROTO_PATH);
    const service = routesServiceDefinition();
    assert.deepEqual(
      Object.values(service).map((method) => [method.path, method.requestStream, method.responseStream]),
      [
        ['/routes.Routes/GetWorkloadRoutingRules', false, false],
        ['/routes.Routes/WatchWorkloadRoutingRules', false, true],
        ['/routes.Routes/GetClusterServices', false, false],
      ],
    );
  });

  it('reads an ADD (enum 0, absent on the wire) as ADD, with camelCase fields', () => {
    const method = routesServiceDefinition().WatchWorkloadRoutingRules;
    assert.ok(method);
    const add = {
      op: 'ADD',
      route: {
        routingKey: 'k1',
        baseline: { kind: 'Deployment', namespace: 'ns', name: 'worker' },
        destinationSandbox: { name: 'alpha' },
        mappings: [],
      },
    };
    // Go leaves a zero enum off the wire, as a message without `op` is encoded here.
    const wire = method.responseSerialize({ route: add.route });
    assert.equal(wire[0], 0x12, 'no op on the wire: the first field is route (2)');
    assert.deepEqual(method.responseDeserialize(wire), add);
    assert.deepEqual(method.responseDeserialize(method.responseSerialize({ op: 'SYNCED' })), {
      op: 'SYNCED',
      route: null,
    });
  });
});
