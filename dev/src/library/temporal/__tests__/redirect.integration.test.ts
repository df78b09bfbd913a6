/**
 * The first-task check with clients that do not route (other SDKs, the CLI, plain clients): the key
 * arrives only in a start header, the workflow starts on the shared queue, and routing must not change
 * what the workflow's handlers see. A baseline and a sandbox worker of the same code, the real
 * Temporal dev server and the routeserver stand-in.
 *
 * Histories of every redirect case are replayed at the end; with RECORD_HISTORIES=<dir> they are
 * saved as the fixtures `replay.test.ts` replays without a server.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  REDIRECT_MANIFEST_HEADER,
  ROUTING_KEY_SEARCH_ATTRIBUTE,
  SANDBOX_SEARCH_ATTRIBUTE,
} from '@sandbox-routing/temporal';
import { pollUntil, runHistories, stackEnv } from '@sandbox-routing/testkit';
import {
  WithStartWorkflowOperation,
  WorkflowFailedError,
  type WorkflowHandle,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { StandInProcess } from '../../../routeserver/standin-process';
import type { MailboxResult } from './fixtures/routing-workflows';
import {
  foreignClientHeaders,
  HistoryRecorder,
  RoutingWorkers,
  standInWithSandbox,
  uniqueKey,
} from './routing-workers';

const env = stackEnv();
const SANDBOX = 'sandbox-r';
const KEY = uniqueKey('r');
const UNKNOWN_KEY = uniqueKey('u');
/** Runs to replay, by case name; saved as `<case>-<n>.json` with RECORD_HISTORIES=<dir>. */
const recorder = new HistoryRecorder();

/** Starts `mailbox` (which ends after `expected` messages) on the shared queue, as a plain client does. */
async function startMailbox(w: RoutingWorkers, idPrefix: string, expected: number) {
  const workflowId = `${idPrefix}-${randomUUID()}`;
  const handle = await w.client.workflow.start('mailbox', {
    taskQueue: w.sharedQueue,
    workflowId,
    args: [expected],
  });
  return { workflowId, handle };
}

/** Starts `mailbox` (expecting two messages) by update-with-start; the update's result and the id. */
async function updateWithStart(w: RoutingWorkers, idPrefix: string, text: string) {
  const workflowId = `${idPrefix}-${randomUUID()}`;
  const startWorkflowOperation = new WithStartWorkflowOperation('mailbox', {
    taskQueue: w.sharedQueue,
    workflowId,
    args: [2],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  const first = await w.client.workflow.executeUpdateWithStart('pushUpdate', {
    args: [text],
    startWorkflowOperation,
  });
  return { workflowId, first };
}

/** Sends the last message a one-message `mailbox` waits for, and its result. */
async function finish(handle: WorkflowHandle): Promise<MailboxResult> {
  await handle.signal('push', 'done');
  return (await handle.result()) as MailboxResult;
}

describe('first-task redirect: handlers see what they would see without routing', () => {
  let standIn: StandInProcess;
  /** Clients with the key only in `_tracer-data` (as Python, Go, TS OpenTelemetry clients send it). */
  let sandboxKeyed: RoutingWorkers;
  let unknownKeyed: RoutingWorkers;
  let refusedKeyed: RoutingWorkers;

  before(async () => {
    standIn = await standInWithSandbox(SANDBOX, KEY);
    const start = async (baggage: string) => {
      const workers = new RoutingWorkers(env.TEMPORAL_ADDRESS, standIn.url, SANDBOX, {
        recordSearchAttributes: true,
      });
      await workers.start([foreignClientHeaders('_tracer-data', baggage)]);
      return workers;
    };
    sandboxKeyed = await start(`sd-routing-key=${KEY}`);
    unknownKeyed = await start(`sd-routing-key=${UNKNOWN_KEY}`);
    refusedKeyed = await start('sd-routing-key=not%20a%20key');
  });

  after(async () => {
    await Promise.all([sandboxKeyed?.stop(), unknownKeyed?.stop(), refusedKeyed?.stop()]);
    await standIn?.stop();
  });

  function assertHandledOn(result: MailboxResult, texts: string[], queue: string, instance: string): void {
    assert.deepEqual(
      result.messages.map((m) => m.text),
      texts,
      'every message exactly once, in the order sent',
    );
    for (const message of result.messages)
      assert.equal(message.taskQueue, queue, `${message.text} handled on ${message.taskQueue}`);
    assert.equal(result.activity.taskQueue, queue);
    assert.equal(result.activity.instance, instance);
  }

  it('signal-with-start and two immediate signals: all delivered to the sandbox run, in order, once', async () => {
    const w = sandboxKeyed;
    const workflowId = `redirect-sws-${randomUUID()}`;
    const handle = await w.client.workflow.signalWithStart('mailbox', {
      taskQueue: w.sharedQueue,
      workflowId,
      args: [3],
      signal: 'push',
      signalArgs: ['s1'],
    });
    await handle.signal('push', 's2');
    await handle.signal('push', 's3');
    assertHandledOn((await handle.result()) as MailboxResult, ['s1', 's2', 's3'], w.sandboxQueue, SANDBOX);

    const runs = await runHistories(w.client, workflowId);
    assert.equal(runs.length, 2, 'one redirect');
    const owner = runs[0]?.history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const first = runs[1]?.history.events ?? [];
    assert.equal(
      first.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.taskQueue?.name,
      w.sandboxQueue,
    );
    assert.ok(!first.some((e) => e.activityTaskScheduledEventAttributes), 'nothing left the first run');
    assert.equal(owner?.taskQueue?.name, w.sandboxQueue);
    const forwarded = first.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
    if (forwarded > 0)
      assert.ok(owner?.header?.fields?.[REDIRECT_MANIFEST_HEADER], 'forwarded signals are described');
    await recorder.record('redirect-signal-with-start', w.client, workflowId);
  });

  it('update-with-start: the update is handled by the sandbox run (the server retries it there)', async () => {
    const w = sandboxKeyed;
    const { workflowId, first } = await updateWithStart(w, 'redirect-uws', 'u1');
    assert.deepEqual(first, { accepted: 1, taskQueue: w.sandboxQueue });
    // The operation's handle names the first run; the workflow id alone reaches the owner's run.
    const handle = w.client.workflow.getHandle(workflowId);
    assert.deepEqual(await handle.executeUpdate('pushUpdate', { args: ['u2'] }), {
      accepted: 2,
      taskQueue: w.sandboxQueue,
    });
    assertHandledOn((await handle.result()) as MailboxResult, ['u1', 'u2'], w.sandboxQueue, SANDBOX);
    await recorder.record('redirect-update-with-start', w.client, workflowId);
  });

  it('start and two immediate updates: both handled by the sandbox run', async () => {
    const w = sandboxKeyed;
    const { workflowId, handle } = await startMailbox(w, 'redirect-su', 2);
    const results = await Promise.all([
      handle.executeUpdate('pushUpdate', { args: ['u1'] }),
      handle.executeUpdate('pushUpdate', { args: ['u2'] }),
    ]);
    for (const result of results) assert.equal((result as { taskQueue: string }).taskQueue, w.sandboxQueue);
    const { messages } = (await handle.result()) as MailboxResult;
    assert.deepEqual(messages.map((m) => m.text).sort(), ['u1', 'u2']);
    await recorder.record('redirect-start-then-update', w.client, workflowId);
  });

  it('an update the sandbox run rejects is rejected by its validator, not by routing', async () => {
    const w = sandboxKeyed;
    const { handle } = await startMailbox(w, 'redirect-reject', 1);
    await assert.rejects(handle.executeUpdate('pushUpdate', { args: [''] }), (error: unknown) => {
      assert.ok(error instanceof WorkflowUpdateFailedError);
      assert.match(String(error.cause?.message), /empty message/);
      return true;
    });
    assertHandledOn(await finish(handle), ['done'], w.sandboxQueue, SANDBOX);
  });

  it('queries during the redirect are answered (first run, then the sandbox run), never hang', async () => {
    const w = sandboxKeyed;
    const { workflowId, handle } = await startMailbox(w, 'redirect-query', 1);
    const answeredBy = new Set<string>();
    await pollUntil(
      async () => {
        const answer = (await handle.query('messages')) as { taskQueue: string };
        answeredBy.add(answer.taskQueue);
        return answer.taskQueue === w.sandboxQueue;
      },
      { description: 'a query answered by the sandbox run', timeoutMs: 30_000, intervalMs: 20 },
    );
    assert.ok(answeredBy.has(w.sandboxQueue));
    await finish(handle);
    await recorder.record('redirect-query', w.client, workflowId);
  });

  it('a cancel request that reaches the first run is forwarded: the sandbox run is cancelled', async () => {
    const w = sandboxKeyed;
    const { workflowId, handle } = await startMailbox(w, 'redirect-cancel', 1);
    await handle.cancel();
    await assert.rejects(handle.result(), WorkflowFailedError);
    const description = await w.client.workflow.getHandle(workflowId).describe();
    assert.equal(description.status.name, 'CANCELLED');
    assert.equal(description.taskQueue, w.sandboxQueue);
    await recorder.record('redirect-cancel', w.client, workflowId);
  });

  it('records the same search attributes as door routing on the redirected run', async () => {
    const w = sandboxKeyed;
    const { workflowId, handle } = await startMailbox(w, 'redirect-sa', 1);
    await finish(handle);
    const { typedSearchAttributes } = await w.client.workflow.getHandle(workflowId).describe();
    assert.equal(typedSearchAttributes.get(ROUTING_KEY_SEARCH_ATTRIBUTE), KEY);
    assert.equal(typedSearchAttributes.get(SANDBOX_SEARCH_ATTRIBUTE), SANDBOX);
    await pollUntil(
      async () => {
        const found = [];
        for await (const info of w.client.workflow.list({
          query: `SignadotRoutingKey = '${KEY}' AND WorkflowId = '${workflowId}'`,
        }))
          found.push(info);
        return found.length === 1 && found[0]?.taskQueue === w.sandboxQueue;
      },
      { description: 'the redirected workflow to be found by its key', timeoutMs: 20_000 },
    );
    await recorder.record('redirect-search-attributes', w.client, workflowId);
  });

  it('unknown key: update-with-start, validators and early queries behave as without routing', async () => {
    const w = unknownKeyed;
    const { workflowId, first } = await updateWithStart(w, 'stay-uws', 'u1');
    assert.deepEqual(first, { accepted: 1, taskQueue: w.sharedQueue });
    const handle = w.client.workflow.getHandle(workflowId);
    assert.deepEqual(await handle.query('messages'), {
      messages: [{ text: 'u1', via: 'update', taskQueue: w.sharedQueue }],
      taskQueue: w.sharedQueue,
    });
    await assert.rejects(handle.executeUpdate('pushUpdate', { args: [''] }), WorkflowUpdateFailedError);
    await handle.signal('push', 's2');
    assertHandledOn((await handle.result()) as MailboxResult, ['u1', 's2'], w.sharedQueue, 'baseline');
    const { typedSearchAttributes } = await handle.describe();
    assert.equal(typedSearchAttributes.get(ROUTING_KEY_SEARCH_ATTRIBUTE), UNKNOWN_KEY);
    assert.equal(typedSearchAttributes.get(SANDBOX_SEARCH_ATTRIBUTE), 'baseline');
    await recorder.record('stay-update-with-start', w.client, workflowId);
  });

  it('unknown key: a query right after the start is answered from the first activation', async () => {
    const w = unknownKeyed;
    for (let i = 0; i < 3; i++) {
      const { handle } = await startMailbox(w, 'stay-query', 1);
      assert.deepEqual(await handle.query('messages'), { messages: [], taskQueue: w.sharedQueue });
      await finish(handle);
    }
  });

  it('a key that is present but refused is reported once, with the reason, and the workflow runs keyless', async () => {
    const w = refusedKeyed;
    const workflowId = `refused-${randomUUID()}`;
    const handle = await w.client.workflow.signalWithStart('mailbox', {
      taskQueue: w.sharedQueue,
      workflowId,
      args: [1],
      signal: 'push',
      signalArgs: ['s1'],
    });
    const result = (await handle.result()) as MailboxResult;
    assert.equal(result.activity.key, undefined);
    assertHandledOn(result, ['s1'], w.sharedQueue, 'baseline');
    const refusals = w.decisions.filter((d) => d.workflowId === workflowId && d.action === 'key-refused');
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]?.carrier, 'tracer-data');
    assert.match(refusals[0]?.reason ?? '', /"not a key" \(length 9\) is not a routing key/);
  });

  it('replays every recorded history deterministically', async () => {
    assert.ok(recorder.runs.length >= 10, `recorded ${recorder.runs.length} runs`);
    await recorder.replayAll();
  });
});
