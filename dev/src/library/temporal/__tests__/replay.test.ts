import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  REDIRECT_MANIFEST_HEADER,
  ROUTING_WORKFLOW_INTERCEPTORS,
  tracingWorkerOptions,
  workflowSpanSink,
} from '@sandbox-routing/temporal';
import { TRAIL_SINK, TRAIL_WORKFLOW_INTERCEPTORS } from '@sandbox-routing/trail';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import {
  bundleWorkflowCode,
  DefaultLogger,
  type ReplayWorkerOptions,
  Runtime,
  Worker,
} from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

/**
 * Histories recorded from real runs by `RECORD_HISTORIES=dev/src/library/temporal/__tests__/histories
 * node dev/dist/test-runner.js library/temporal` (`routing.integration.test.ts`: `history-<n>.json`,
 * door-routed, redirected, _tracer-data-only, recorded before the first-task check ran the workflow
 * at once; `redirect.integration.test.ts`: `<case>-<n>.json`, every redirect case: signal-with-start,
 * update-with-start, start then update, query, cancel, search attributes, and a stay with an update).
 * Replaying them with today's interceptors proves the interceptors still decide deterministically,
 * old histories included: a change that alters the commands they emit fails here without any server.
 *
 * Every history is replayed twice: with the routing interceptors alone (as recorded), and with the
 * full stack a worker runs, Temporal's OpenTelemetry interceptors and the trail in front of routing,
 * so adding tracing to a worker cannot break the workflows already running.
 */
const dir = path.resolve(__dirname, '../../../../src/library/temporal/__tests__/histories');

// One replay worker per history: keep their state-change logs out of the test output.
Runtime.install({ logger: new DefaultLogger('WARN') });

describe('workflow interceptors replay recorded histories', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('has recorded histories of every redirect case, with forwarded signals and updates', () => {
    const text = (f: string) => readFileSync(path.join(dir, f), 'utf8');
    assert.ok(files.length >= 20, `found ${files.length}`);
    for (const name of [
      'redirect-signal-with-start',
      'redirect-update-with-start',
      'redirect-start-then-update',
      'redirect-query',
      'redirect-cancel',
      'redirect-search-attributes',
      'stay-update-with-start',
    ])
      assert.ok(files.includes(`${name}-0.json`), `${name} recorded`);
    assert.ok(files.some((f) => text(f).includes('"workflowExecutionContinuedAsNewEventAttributes"')));
    assert.ok(
      files.some((f) => text(f).includes(`"${REDIRECT_MANIFEST_HEADER}"`)),
      'a run with forwarded messages',
    );
    assert.ok(files.some((f) => text(f).includes('"workflowExecutionUpdateAcceptedEventAttributes"')));
  });

  const workflowsPath = require.resolve('./fixtures/routing-workflows');
  const load = (file: string) => JSON.parse(readFileSync(path.join(dir, file), 'utf8'));

  /**
   * The same options with the workflow code bundled once, up front: each replay then starts in a
   * fraction of a second instead of bundling (webpack) the workflows again for every history.
   */
  async function bundled(options: ReplayWorkerOptions): Promise<ReplayWorkerOptions> {
    const { workflowsPath: _path, interceptors = {}, ...rest } = options;
    const { workflowModules, ...otherInterceptors } = interceptors;
    const { code } = await bundleWorkflowCode({
      workflowsPath,
      workflowInterceptorModules: workflowModules,
      logger: new DefaultLogger('WARN'),
    });
    return { ...rest, interceptors: otherInterceptors, workflowBundle: { code } };
  }

  // Spans made during replay are not exported (the sink is not called on replay); kept to check that.
  const exported = new InMemorySpanExporter();
  const telemetry = {
    spanProcessor: new SimpleSpanProcessor(exported),
    resource: resourceFromAttributes({ 'service.name': 'replay' }),
  };
  let routingOnly: ReplayWorkerOptions;
  let fullStack: ReplayWorkerOptions;
  before(async () => {
    routingOnly = await bundled({
      workflowsPath,
      interceptors: { workflowModules: [ROUTING_WORKFLOW_INTERCEPTORS] },
    });
    fullStack = await bundled(
      tracingWorkerOptions(
        {
          workflowsPath,
          interceptors: { workflowModules: [TRAIL_WORKFLOW_INTERCEPTORS, ROUTING_WORKFLOW_INTERCEPTORS] },
          // The trail's reports are not made during replay either; an empty sink suffices.
          sinks: {
            [TRAIL_SINK]: {
              workflowStarted: { fn: () => undefined },
              workflowClosed: { fn: () => undefined },
            },
          },
        },
        telemetry,
      ),
    );
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const { workflowId, history } = load(file);
      await Worker.runReplayHistory(routingOnly, historyFromJSON(history), workflowId);
    });
  }

  for (const file of files) {
    it(`replays ${file} with tracing and the trail in front of routing`, async () => {
      const { workflowId, history } = load(file);
      await Worker.runReplayHistory(fullStack, historyFromJSON(history), workflowId);
      assert.deepEqual(exported.getFinishedSpans(), [], 'no span exported while replaying');
    });
  }

  it("needs the timing-preserving module: Temporal's own reorders a recorded update and activity", async () => {
    // Why workflow-tracing.ts wraps Temporal's interceptors (temporalio/sdk-typescript#1835): as shipped,
    // their async wrappers answer this run's update after the activity it schedules in the same activation.
    const { workflowId, history } = load('redirect-start-then-update-0.json');
    await assert.rejects(
      Worker.runReplayHistory(
        {
          workflowsPath,
          interceptors: {
            workflowModules: [
              require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
              ROUTING_WORKFLOW_INTERCEPTORS,
            ],
          },
          sinks: workflowSpanSink(telemetry),
        },
        historyFromJSON(history),
        workflowId,
      ),
      DeterminismViolationError,
    );
  });
});
