import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stackEnv } from '@sandbox-routing/testkit';
import { type EventOutcome, Pipeline } from '../../pipeline/pipeline';
import { resumeService, type ServiceProcess, suspendService } from '../../pipeline/service-process';
import { STACK_DIR } from '../../stack/paths';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);
/** A fast refresh: the forks see each rule change within half a second, long before the baseline thaws. */
const env = { ROUTESERVER_REFRESH_INTERVAL_MS: '500', LOG_LEVEL: 'info' };
const EVENTS = 10;
/**
 * How long a rule stays away in the delete-and-create-again races, as in the reported reproduction:
 * long enough for the old design's forks (500 ms refresh) to skip the events meanwhile.
 */
const GONE_FOR_MS = 4000;

/** Runs `change` after the rule has been away for GONE_FOR_MS (the shape of the race, not a wait for a condition). */
function later(change: () => Promise<void>): () => Promise<void> {
  return () => new Promise<void>((resolve) => setTimeout(resolve, GONE_FOR_MS)).then(change);
}

/**
 * Rule changes while the baseline ingress is frozen (SIGSTOP): it wakes up with a route snapshot from
 * before the change, while the forks already saw it. Whoever decides, every event must complete exactly
 * once, on an instance that owned its key at some moment of the race (the sandbox, or the baseline).
 */
describe('every event decided exactly once while rules change', () => {
  let pipeline: Pipeline;
  let baselineIngress: ServiceProcess;

  before(async () => {
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `e2e-decide-once-${id}`), env);
    await pipeline.startWorker();
    baselineIngress = await pipeline.startIngress();
  });

  after(async () => {
    await pipeline?.stop();
  });

  /** Publishes EVENTS events with `routingKey` while the baseline ingress is frozen, then thaws it. */
  async function raceWhileFrozen(
    routingKey: string,
    change: () => Promise<void>,
    afterPublish: () => Promise<void> = async () => {},
  ): Promise<string[]> {
    suspendService(baselineIngress);
    try {
      await change();
      const summary = await pipeline.publish({ routingKey, count: EVENTS, idPrefix: routingKey });
      assert.equal(summary.sent, EVENTS);
      await afterPublish();
      return summary.events.map((e) => e.id);
    } finally {
      resumeService(baselineIngress);
    }
  }

  async function assertExactlyOnce(
    routingKey: string,
    eventIds: string[],
    allowed: { ingestedBy: string[]; ranOn: string[] },
  ): Promise<Map<string, EventOutcome>> {
    const outcomes = await pipeline.awaitOutcomes(eventIds);
    for (const [eventId, outcome] of outcomes) {
      assert.equal(outcome.status, 'COMPLETED', eventId);
      assert.ok(
        allowed.ingestedBy.includes(outcome.ingestedBy ?? '?'),
        `${eventId} ingested by ${outcome.ingestedBy}`,
      );
      assert.ok(allowed.ranOn.includes(outcome.ranOn ?? '?'), `${eventId} ran on ${outcome.ranOn}`);
    }
    const workflows = await pipeline.workflowIds(`${routingKey}-`);
    assert.equal(workflows.length, eventIds.length, 'one workflow per event, no more');
    return outcomes;
  }

  type Sandbox = { name: string; key: string };
  const register = (sandbox: Sandbox) =>
    pipeline.registerSandbox(sandbox.name, sandbox.key, ['ingress', 'worker']);

  /**
   * A sandbox forking ingress and worker, its forks running throughout (their pods start before its
   * routes exist when it is created, as with Signadot), and a race on its key: every event exactly
   * once, on the sandbox or the baseline.
   */
  async function raceOnSandbox(
    prefix: string,
    race: {
      existsBefore: boolean;
      change: (sandbox: Sandbox) => Promise<void>;
      afterPublish?: (sandbox: Sandbox) => Promise<void>;
    },
  ): Promise<void> {
    const sandbox = { name: `${prefix}-${id}`, key: `k${prefix}${id}` };
    if (race.existsBefore) await register(sandbox);
    const forks = [await pipeline.startWorker(sandbox.name), await pipeline.startIngress(sandbox.name)];
    const events = await raceWhileFrozen(
      sandbox.key,
      () => race.change(sandbox),
      race.afterPublish ? () => race.afterPublish?.(sandbox) ?? Promise.resolve() : undefined,
    );
    await assertExactlyOnce(sandbox.key, events, {
      ingestedBy: [sandbox.name, 'baseline'],
      ranOn: [sandbox.name, 'baseline'],
    });
    for (const fork of forks) await pipeline.stopService(fork);
    await pipeline.deleteSandbox(sandbox.name);
  }

  it('loses nothing when the sandbox is deleted', () =>
    raceOnSandbox('del', { existsBefore: true, change: (s) => pipeline.deleteSandbox(s.name) }));

  it('loses nothing when the sandbox is created', () =>
    raceOnSandbox('new', { existsBefore: false, change: register }));

  it('loses nothing when the sandbox is deleted and created again (the reported 10 of 10)', () =>
    raceOnSandbox('rec', {
      existsBefore: true,
      change: (s) => pipeline.deleteSandbox(s.name),
      afterPublish: (s) => later(() => register(s))(),
    }));

  it('loses nothing when a RouteGroup moves from one sandbox to another', async () => {
    const first = `rga-${id}`;
    const second = `rgb-${id}`;
    const group = { name: `rg-${id}`, key: `krg${id}` };
    await pipeline.registerSandbox(first, `kfirst${id}`, ['ingress']);
    await pipeline.registerSandbox(second, `ksecond${id}`, ['ingress']);
    await pipeline.registerRouteGroup(group.name, group.key, [first]);
    const forks = [await pipeline.startIngress(first), await pipeline.startIngress(second)];
    const events = await raceWhileFrozen(
      group.key,
      () => pipeline.deleteRouteGroup(group.name),
      later(() => pipeline.registerRouteGroup(group.name, group.key, [second])),
    );
    // The forks fork only the ingress: their workflows run on the baseline worker.
    await assertExactlyOnce(group.key, events, {
      ingestedBy: [first, second, 'baseline'],
      ranOn: ['baseline'],
    });
    for (const fork of forks) await pipeline.stopService(fork);
    await pipeline.deleteRouteGroup(group.name);
    await Promise.all([pipeline.deleteSandbox(first), pipeline.deleteSandbox(second)]);
  });
});
