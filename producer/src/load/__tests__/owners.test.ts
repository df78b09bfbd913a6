import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownersFrom } from '../../console/owners';
import { OwnerResolutionError, resolveOwners } from '../owners';

const worker = { kind: 'Deployment', namespace: 'local', name: 'worker' };
const ingress = { kind: 'Deployment', namespace: 'local', name: 'ingress' };
const rule = (routingKey: string, sandbox: string, baseline = worker) => ({
  routingKey,
  baseline,
  destinationSandbox: { name: sandbox },
});
/** pr-101 forks the worker and the ingress; pr-102 the worker, also reached through RouteGroup team. */
const workerRules = [rule('k101', 'pr-101'), rule('k102', 'pr-102'), rule('kteam', 'pr-102')];
const ingressRules = [rule('k101', 'pr-101', ingress)];
const standIn = {
  sandboxes: { 'pr-101': { routingKey: 'k101' }, 'pr-102': { routingKey: 'k102' } },
  routeGroups: { team: { routingKey: 'kteam', sandboxes: ['pr-102'] } },
};

describe('resolveOwners', () => {
  it("finds a sandbox's own key (not its RouteGroup's) and who should run its work", () => {
    const owners = resolveOwners(
      { baseline: true, sandboxes: ['pr-101', 'pr-102'], routingKeys: ['kteam', 'unknownkey'] },
      ownersFrom(workerRules, ingressRules, standIn),
    );
    assert.deepEqual(owners, [
      { name: 'baseline', routingKey: null, expected: { worker: 'baseline', ingress: 'baseline' } },
      { name: 'pr-101', routingKey: 'k101', expected: { worker: 'pr-101', ingress: 'pr-101' } },
      { name: 'pr-102', routingKey: 'k102', expected: { worker: 'pr-102', ingress: 'baseline' } },
      { name: 'key:kteam', routingKey: 'kteam', expected: { worker: 'pr-102', ingress: 'baseline' } },
      {
        name: 'key:unknownkey',
        routingKey: 'unknownkey',
        expected: { worker: 'baseline', ingress: 'baseline' },
      },
    ]);
  });

  it("with Signadot's routeserver (rules only) finds a sandbox by its rules' destination", () => {
    const owners = resolveOwners(
      { baseline: false, sandboxes: ['pr-101'], routingKeys: [] },
      ownersFrom(workerRules, ingressRules, undefined),
    );
    assert.equal(owners[0]?.routingKey, 'k101');
  });

  it('asks for --routing-key when several keys lead to the sandbox, and names the ones it knows otherwise', () => {
    const rulesOnly = ownersFrom(workerRules, ingressRules, undefined);
    assert.throws(
      () => resolveOwners({ baseline: false, sandboxes: ['pr-102'], routingKeys: [] }, rulesOnly),
      (e: unknown) => e instanceof OwnerResolutionError && /k102, kteam.*--routing-key/.test(e.message),
    );
    assert.throws(
      () => resolveOwners({ baseline: false, sandboxes: ['pr-9'], routingKeys: [] }, rulesOnly),
      /--sandbox pr-9: no routing rule leads to it; the routeserver knows pr-101 \(k101\)/,
    );
  });

  it('refuses an empty run and an owner named twice', () => {
    const owners = ownersFrom(workerRules, ingressRules, standIn);
    assert.throws(
      () => resolveOwners({ baseline: false, sandboxes: [], routingKeys: [] }, owners),
      /at least one owner/,
    );
    assert.throws(
      () => resolveOwners({ baseline: false, sandboxes: ['pr-101'], routingKeys: ['k101'] }, owners),
      /named twice/,
    );
  });
});
