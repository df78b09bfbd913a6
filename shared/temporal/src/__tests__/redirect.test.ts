import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { type ForwardedSignal, packRedirect, REDIRECT_MANIFEST_HEADER, unpackRedirect } from '../redirect';

const p = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const binary = (bytes: number[]): Payload => ({
  metadata: { encoding: new TextEncoder().encode('binary/plain') },
  data: Uint8Array.from(bytes),
});

describe('redirect packing (what the first run forwards to the owner run)', () => {
  const args = [p({ id: 'e-1' }), binary([0, 255, 7])];
  const signals: ForwardedSignal[] = [
    { signalName: 'approve', input: [p({ approvedBy: 'ana' })], headers: { 'sd-routing-key': p('k1') } },
    { signalName: 'noArgs', input: [], headers: {} },
    { signalName: 'approve', input: [p('b'), binary([1])], headers: { z: p(1), a: p(2) } },
  ];

  it('without signals or a cancel request, the input is the arguments and no header is added', () => {
    assert.deepEqual(packRedirect(args, [], false), { input: args, headers: {} });
    assert.equal(unpackRedirect({}, args), undefined);
  });

  it('round-trips arguments, signals (order, payload bytes, headers) and the cancel request', () => {
    const packed = packRedirect(args, signals, true);
    assert.equal(packed.input.length, 2 + 2 + 0 + 4);
    assert.ok(packed.headers[REDIRECT_MANIFEST_HEADER]);
    const unpacked = unpackRedirect(packed.headers, packed.input);
    assert.deepEqual(unpacked?.arguments, args);
    assert.deepEqual(unpacked?.signals, signals);
    assert.equal(unpacked?.cancelRequested, true);
  });

  it('leaves the input whole when the manifest does not fit it or is not ours', () => {
    const packed = packRedirect(args, signals, false);
    assert.equal(unpackRedirect(packed.headers, packed.input.slice(1)), undefined, 'a payload missing');
    for (const manifest of [
      'nonsense',
      { v: 2, arguments: 1, signals: [] },
      { v: 1, arguments: -1, signals: [] },
      { v: 1, arguments: 1, signals: [{ name: '', args: 0, headers: [] }] },
      { v: 1, arguments: 1, signals: [{ name: 'x', args: 1.5, headers: [] }] },
    ])
      assert.equal(unpackRedirect({ [REDIRECT_MANIFEST_HEADER]: p(manifest) }, args), undefined);
    assert.equal(
      unpackRedirect({ [REDIRECT_MANIFEST_HEADER]: { metadata: {}, data: new Uint8Array([1]) } }, args),
      undefined,
    );
  });
});
