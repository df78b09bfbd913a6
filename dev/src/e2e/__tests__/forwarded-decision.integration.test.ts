import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stackEnv } from '@sandbox-routing/testkit';
import { Pipeline } from '../../pipeline/pipeline';
import type { ServiceProcess } from '../../pipeline/service-process';
import { STACK_DIR } from '../../stack/paths';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);
const env = { ROUTESERVER_REFRESH_INTERVAL_MS: '500', LOG_LEVEL: 'info' };
const A = { name: `fa-${id}`, key: `kfa${id}` };
const B = { name: `fb-${id}`, key: `kfb${id}` };
const GROUP = { name: `fg-${id}`, key: `kfg${id}group` };
const EVENTS = 10;

/**
 * DESIGN §4 and §9: an event is decided once. The baseline ingress decides who owns its key for the
 * ingress and for the worker, and forwards the record to the sandbox's topic with that decision; the
 * fork's ingress honours it. Here the rules move between the forward and the fork's start (a RouteGroup
 * moves from A to B while A's ingress is not running yet): the events still run on A, as decided.
 */
describe('a forwarded event runs where the baseline decided, whatever the rules say later', () => {
  let pipeline: Pipeline;
  let baselineIngress: ServiceProcess;

  before(async () => {
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `e2e-forwarded-${id}`), env);
    await pipeline.registerSandbox(A.name, A.key, ['ingress', 'worker']);
    await pipeline.registerSandbox(B.name, B.key, ['worker']);
    await pipeline.registerRouteGroup(GROUP.name, GROUP.key, [A.name]);
    const [ingress] = await pipeline.startServices([{ name: B.name, forks: ['worker'] }]);
    assert.ok(ingress);
    baselineIngress = ingress;
    await pipeline.startWorker(A.name); // A's ingress starts only after the rules moved
  });

  after(async () => {
    await pipeline?.stop();
    await Promise.all([
      pipeline?.deleteRouteGroup(GROUP.name),
      pipeline?.deleteSandbox(A.name),
      pipeline?.deleteSandbox(B.name),
    ]);
  });

  it('starts each forwarded event on the worker owner decided at the forward', async () => {
    const summary = await pipeline.publish({ routingKey: GROUP.key, count: EVENTS, idPrefix: `f${id}` });
    assert.equal(summary.sent, EVENTS);
    await pipeline.awaitMetric(
      baselineIngress,
      {
        name: 'sandbox_routing_ingress_events_total',
        labels: `action="forwarded",owner="${A.name}"`,
        atLeast: EVENTS,
      },
      { description: `${EVENTS} events forwarded to ${A.name}`, timeoutMs: 60_000 },
    );
    // The group moves to B: by today's rules the key's work belongs to B's worker.
    await pipeline.registerRouteGroup(GROUP.name, GROUP.key, [B.name]);
    await pipeline.startIngress(A.name);
    const outcomes = await pipeline.awaitOutcomes(summary.events.map((e) => e.id));
    const placed = [...outcomes.values()].map(
      (o) => `${o.ingestedBy}/${o.ranOn}/${[...new Set(o.activitiesOn)]}`,
    );
    assert.deepEqual(placed, Array(EVENTS).fill(`${A.name}/${A.name}/${A.name}`));
    assert.equal((await pipeline.workflowIds(`f${id}-`)).length, EVENTS, 'one workflow per event');
  });
});
