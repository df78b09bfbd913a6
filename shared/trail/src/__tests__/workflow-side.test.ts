import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventIdOf } from '../workflow-interceptors';

describe('eventIdOf (workflow side)', () => {
  it('takes the id of a pipeline event argument, else a memo eventId, else null', () => {
    assert.equal(eventIdOf([{ id: 'e-1', payload: {} }], undefined), 'e-1');
    assert.equal(eventIdOf([{ id: 42 }], { eventId: 'e-2' }), 'e-2');
    assert.equal(eventIdOf(['plain'], {}), null);
    assert.equal(eventIdOf([], undefined), null);
    assert.equal(eventIdOf([{ id: 'x'.repeat(201) }], undefined), null, 'oversized ids are not ids');
  });
});
