import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROUTING_WORKFLOW_INTERCEPTORS } from '@sandbox-routing/shared';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';

/**
 * Histories recorded from real runs (door-routed, redirected, _tracer-data-only) by
 * `RECORD_HISTORIES=dev/src/library/temporal/__tests__/histories node --test …/routing.integration.test.js`.
 * Replaying them with today's interceptors proves the interceptors still decide deterministically:
 * a change that alters the commands they emit fails here without any server.
 */
const dir = path.resolve(__dirname, '../../../../src/library/temporal/__tests__/histories');

describe('workflow interceptors replay recorded histories', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('has recorded histories, including a redirect (continue-as-new onto a sandbox queue)', () => {
    assert.ok(files.length >= 5, `found ${files.length}`);
    const redirected = files.some((f) =>
      readFileSync(path.join(dir, f), 'utf8').includes('"workflowExecutionContinuedAsNewEventAttributes"'),
    );
    assert.ok(redirected);
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const { workflowId, history } = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
      await Worker.runReplayHistory(
        {
          workflowsPath: require.resolve('./fixtures/routing-workflows'),
          interceptors: { workflowModules: [ROUTING_WORKFLOW_INTERCEPTORS] },
        },
        historyFromJSON(history),
        workflowId,
      );
    });
  }
});
