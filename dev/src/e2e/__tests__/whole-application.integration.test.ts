import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CARRIED_DECISION_HEADER, parseCarriedDecision } from '@sandbox-routing/core';
import { workflowIdOfEvent } from '@sandbox-routing/sample';
import { headerStrings, pollUntil, readMessages, stackEnv } from '@sandbox-routing/testkit';
import { type EventOutcome, Pipeline, type Workload } from '../../pipeline/pipeline';
import { STACK_DIR } from '../../stack/paths';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);
const env = { ROUTESERVER_REFRESH_INTERVAL_MS: '500', LOG_LEVEL: 'info' };
const brokers = stack.KAFKA_BROKERS.split(',');

/** Where each step of an event ran: the ingress's start, the workflow and its activities, the charge, the notification. */
interface Steps {
  ingress: string | undefined;
  worker: string | undefined;
  activities: string[];
  payments: string | undefined;
  notifier: string;
}

/** A sandbox of the test: what it forks, under which key. */
interface TestSandbox {
  name: string;
  key: string;
  forks: Workload[];
}

const sandbox = (label: string, forks: Workload[]): TestSandbox => ({
  name: `${label}-${id}`,
  key: `k${label}${id}`,
  forks,
});
/** A sandbox forking only the Python payments service. */
const PAY = sandbox('pay', ['payments']);
/** A sandbox forking only the notifier (a second consumer of the events topic). */
const NTF = sandbox('ntf', ['notifier']);
/** A sandbox forking the order worker and payments. */
const WP = sandbox('wp', ['worker', 'payments']);
/** A sandbox forking the ingress and the worker: its forward topic must never hold the notifier's copies. */
const ING = sandbox('ing', ['ingress', 'worker']);
const SANDBOXES = [PAY, NTF, WP, ING];
/** A RouteGroup spanning two sandboxes that fork different workloads. */
const GROUP = { name: `rg-${id}`, key: `krg${id}`, sandboxes: [PAY, NTF] };

/** Each workload's owner under a set of sandboxes: the one forking it, else the baseline. */
function ownersUnder(sandboxes: readonly TestSandbox[]): Record<Workload, string> {
  const owner = (workload: Workload) => sandboxes.find((s) => s.forks.includes(workload))?.name ?? 'baseline';
  return {
    ingress: owner('ingress'),
    worker: owner('worker'),
    payments: owner('payments'),
    notifier: owner('notifier'),
  };
}

/** The steps as the owners say they should have run. */
function expectedSteps(owners: Record<Workload, string>): Steps {
  return {
    ingress: owners.ingress,
    worker: owners.worker,
    activities: [owners.worker],
    payments: owners.payments,
    notifier: owners.notifier,
  };
}

/**
 * The whole sample application on the real stack (DESIGN §9, issue 19): four workloads — the ingress and
 * the notifier (two consumers of `events`, each in its own group), the order worker and the Python
 * payments service — each routed by its own rules, whichever sandbox forks which of them.
 */
describe('a whole application: every workload routed by its own rules', () => {
  let pipeline: Pipeline;

  before(async () => {
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `e2e-application-${id}`), env);
    await pipeline.watchConsumers();
    for (const s of SANDBOXES) await pipeline.registerSandbox(s.name, s.key, s.forks);
    await pipeline.registerRouteGroup(
      GROUP.name,
      GROUP.key,
      GROUP.sandboxes.map((s) => s.name),
    );
    await pipeline.startServices(SANDBOXES.map(({ name, forks }) => ({ name, forks })));
    await pipeline.startNotifier();
  });

  after(async () => {
    await pipeline?.stop();
  });

  /** Where every step of each event ran, and the steps Temporal retried or redirected (none expected). */
  async function stepsOf(eventIds: readonly string[]): Promise<Map<string, Steps>> {
    const outcomes = await pipeline.awaitOutcomes(eventIds);
    const steps = new Map<string, Steps>();
    for (const eventId of eventIds) {
      const outcome = outcomes.get(eventId) as EventOutcome;
      steps.set(eventId, {
        ingress: outcome.ingestedBy,
        worker: outcome.ranOn,
        activities: [...new Set(outcome.activitiesOn)],
        payments: outcome.paymentsOn,
        notifier: await pipeline.consumerOutcome(eventId),
      });
    }
    return steps;
  }

  /** Activity attempts after the first, failed workflow tasks, redirects (continue-as-new) of the events' workflows. */
  async function retriedSteps(eventIds: readonly string[]): Promise<string[]> {
    const problems: string[] = [];
    for (const eventId of eventIds) {
      const history = await pipeline.temporal().workflow.getHandle(workflowIdOfEvent(eventId)).fetchHistory();
      for (const event of history.events ?? []) {
        const attempt = event.activityTaskStartedEventAttributes?.attempt ?? 1;
        if (attempt > 1) problems.push(`${eventId}: activity attempt ${attempt}`);
        if (event.workflowTaskFailedEventAttributes) problems.push(`${eventId}: workflow task failed`);
        if (event.activityTaskFailedEventAttributes) problems.push(`${eventId}: activity failed`);
        if (event.workflowExecutionContinuedAsNewEventAttributes) problems.push(`${eventId}: redirected`);
      }
    }
    return problems;
  }

  it('each key runs every step on its owner, first time: payments-only, notifier-only, worker+payments, a RouteGroup of two', async () => {
    const cases = [
      { key: PAY.key, owners: ownersUnder([PAY]) },
      { key: NTF.key, owners: ownersUnder([NTF]) },
      { key: WP.key, owners: ownersUnder([WP]) },
      { key: ING.key, owners: ownersUnder([ING]) },
      { key: GROUP.key, owners: ownersUnder(GROUP.sandboxes) },
      { key: '', owners: ownersUnder([]) },
    ];
    const published = await Promise.all(
      cases.map(async (c, i) => ({
        ...c,
        ids: (await pipeline.publish({ routingKey: c.key, count: 3, idPrefix: `app${i}${id}` })).events.map(
          (e) => e.id,
        ),
      })),
    );
    const all = published.flatMap((p) => p.ids);
    const steps = await stepsOf(all);
    const misplaced: string[] = [];
    for (const { key, owners, ids } of published) {
      for (const eventId of ids) {
        const expected = expectedSteps(owners);
        const actual = steps.get(eventId);
        if (JSON.stringify(actual) !== JSON.stringify(expected))
          misplaced.push(
            `${eventId} (key ${key || 'none'}): ran ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
          );
      }
    }
    assert.deepEqual(misplaced, [], 'misplaced steps');
    assert.deepEqual(await retriedSteps(all), [], 'retried or redirected steps');
    // Each workload handled each event once: one workflow per event, one notification per event.
    for (const eventId of all) {
      const processed = pipeline.consumerRecords(eventId).filter((r) => r.action === 'processed');
      assert.equal(processed.length, 1, `${eventId} notified once`);
    }
    for (let i = 0; i < cases.length; i++) {
      assert.equal(
        (await pipeline.workflowIds(`app${i}${id}-`)).length,
        3,
        `one workflow per event of case ${i}`,
      );
    }
  });

  it("keeps two forked consumers' copies apart: each forward topic holds only its workload's sandbox's events", async () => {
    // The notifier fork's topic holds events of NTF's key and the group's key only, with the notifier's decision.
    const notifierCopies = await readMessages(brokers, pipeline.notifierTopic(NTF.name), 6);
    for (const { message } of notifierCopies) {
      const decision = parseCarriedDecision(String(headerStrings(message.headers)[CARRIED_DECISION_HEADER]));
      assert.ok(decision && [NTF.key, GROUP.key].includes(decision.routingKey), decision?.routingKey);
      assert.deepEqual(
        decision.owners.map((o) => [o.workload.name, o.owner]),
        [[pipeline.notifierBaseline, { kind: 'sandbox', sandboxName: NTF.name }]],
      );
    }
    // The ingress fork's topic holds the ingress fork's events only.
    const ingressCopies = await readMessages(brokers, pipeline.sandboxTopic(ING.name), 3);
    for (const { message } of ingressCopies) {
      assert.equal(
        parseCarriedDecision(String(headerStrings(message.headers)[CARRIED_DECISION_HEADER]))?.routingKey,
        ING.key,
      );
    }
    // Neither consumer made a topic for a sandbox that does not fork it.
    assert.equal(await pipeline.topicExists(pipeline.notifierTopic(ING.name)), false);
    assert.equal(await pipeline.topicExists(pipeline.sandboxTopic(NTF.name)), false);
    assert.equal(await pipeline.topicExists(pipeline.notifierTopic(PAY.name)), false);
  });

  it('follows a rule change mid-stream for every workload: old owner before, new owner after, nothing lost or run twice', async () => {
    // The group's key moves from {payments-only, notifier-only} to {worker+payments} then to {ingress+worker}:
    // every workload's owner changes at least once while events keep coming.
    const stages = [GROUP.sandboxes, [WP], [ING]];
    const key = `kmove${id}`;
    await pipeline.registerRouteGroup(`mv-${id}`, key, stages[0]?.map((s) => s.name) ?? []);
    const sent: { ids: string[]; owners: Record<Workload, string>[] }[] = [];
    for (let stage = 0; stage < stages.length; stage++) {
      const now = stages[stage] ?? [];
      const before = stages[stage - 1];
      if (stage > 0)
        await pipeline.registerRouteGroup(
          `mv-${id}`,
          key,
          now.map((s) => s.name),
        );
      // Sent while the route tables may still hold the old rules: either owner is right, per workload.
      const during = await pipeline.publish({
        routingKey: key,
        count: 4,
        rate: 4,
        idPrefix: `mv${stage}a${id}`,
      });
      sent.push({
        ids: during.events.map((e) => e.id),
        owners: [ownersUnder(now), ...(before ? [ownersUnder(before)] : [])],
      });
      // Once every table has the new rules (a probe event lands on the new owners), only the new owners.
      const settled = ownersUnder(now);
      await pollUntil(
        async () => {
          const probe = await pipeline.publish({
            routingKey: key,
            count: 1,
            idPrefix: `mv${stage}p${randomUUID().slice(0, 4)}${id}`,
          });
          const [eventId] = probe.events.map((e) => e.id);
          const steps = (await stepsOf([eventId as string])).get(eventId as string);
          return JSON.stringify(steps) === JSON.stringify(expectedSteps(settled));
        },
        {
          description: `the rules of stage ${stage} to reach every workload`,
          timeoutMs: 60_000,
          intervalMs: 500,
        },
      );
      const after = await pipeline.publish({ routingKey: key, count: 3, idPrefix: `mv${stage}b${id}` });
      sent.push({ ids: after.events.map((e) => e.id), owners: [settled] });
      // Done before the next change: a workflow decides another workload's owner when it calls it, so an
      // event still running at the change may rightly charge on the next owner.
      await stepsOf([...during.events, ...after.events].map((e) => e.id));
    }
    const all = sent.flatMap((s) => s.ids);
    const steps = await stepsOf(all);
    const misplaced: string[] = [];
    for (const { ids, owners } of sent) {
      for (const eventId of ids) {
        const actual = steps.get(eventId) as Steps;
        // Per workload, the step ran on one of the owners allowed at that moment.
        for (const workload of ['ingress', 'worker', 'payments', 'notifier'] as const) {
          const ran = workload === 'worker' ? actual.worker : actual[workload];
          if (!owners.some((o) => o[workload] === ran))
            misplaced.push(`${eventId}: ${workload} ran on ${ran}`);
        }
        // The workflow's own activities run with the workflow.
        if (actual.activities.length !== 1 || actual.activities[0] !== actual.worker)
          misplaced.push(
            `${eventId}: activities on ${actual.activities.join(',')}, workflow on ${actual.worker}`,
          );
      }
    }
    assert.deepEqual(misplaced, [], 'misplaced steps');
    assert.deepEqual(await retriedSteps(all), [], 'retried or redirected steps');
    for (const eventId of all) {
      assert.equal(
        pipeline.consumerRecords(eventId).filter((r) => r.action === 'processed').length,
        1,
        `${eventId} notified once`,
      );
    }
  });

  it("tears a notifier fork down like the ingress's: what it left goes back to the baseline notifier, once", async () => {
    const fork = pipeline.services.find((service) => service.name === `notifier-${NTF.name}`);
    assert.ok(fork, 'the notifier fork runs');
    // Signadot deletes the fork's pods first; events keep arriving for its key meanwhile.
    await pipeline.stopService(fork);
    const left = await pipeline.publish({ routingKey: NTF.key, count: 3, idPrefix: `left${id}` });
    const ids = left.events.map((e) => e.id);
    await pollUntil(
      () => ids.every((eventId) => pipeline.consumerRecords(eventId).some((r) => r.action === 'forwarded')),
      {
        description: "the baseline notifier to forward the 3 events to the fork's topic",
        timeoutMs: 30_000,
      },
    );
    await pipeline.deleteRouteGroup(GROUP.name);
    await pipeline.deleteRouteGroup(`mv-${id}`);
    await pipeline.deleteSandbox(NTF.name);
    const run = await pipeline.teardownConsumer('notifier', NTF.name);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { moved: number; topicDeleted: boolean; topic: string };
    assert.deepEqual(
      { moved: report.moved, topicDeleted: report.topicDeleted, topic: report.topic },
      { moved: 3, topicDeleted: true, topic: pipeline.notifierTopic(NTF.name) },
    );
    for (const eventId of ids) {
      assert.equal(await pipeline.consumerOutcome(eventId), 'baseline', eventId);
      assert.equal(
        pipeline.consumerRecords(eventId).filter((r) => r.action === 'processed').length,
        1,
        eventId,
      );
    }
    // The ingress's fork topic is another workload's: untouched.
    assert.equal(await pipeline.topicExists(pipeline.sandboxTopic(ING.name)), true);
  });
});
