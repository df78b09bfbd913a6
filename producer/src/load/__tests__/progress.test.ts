import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatProgress, STALL_MS, type StallState, stallHint } from '../progress';
import type { LiveCounts } from '../tracker';

const counts = (overrides: Partial<LiveCounts> = {}): LiveCounts => ({
  sent: 0,
  decided: 0,
  started: 0,
  completed: 0,
  failed: 0,
  deadLettered: 0,
  inFlight: 0,
  p99: Number.NaN,
  ...overrides,
});

const T0 = 1_000_000;

function state(overrides: Partial<StallState> = {}): StallState {
  return {
    now: T0 + 50_000,
    firstSentAt: T0,
    lastCompletionAt: null,
    lastRecordAt: T0 + 49_000,
    overall: counts({ sent: 2000, inFlight: 2000 }),
    resultsTopic: 'events.results',
    backlog: null,
    ...overrides,
  };
}

describe('the progress line', () => {
  it('names each count, in the order events go through the pipeline', () => {
    const line = formatProgress({
      elapsedMs: 12_400,
      phase: 'sending',
      owners: [
        {
          name: 'baseline',
          counts: counts({ sent: 60, decided: 58, started: 55, completed: 50, inFlight: 10, p99: 819.6 }),
        },
        {
          name: 'pr-101',
          counts: counts({ sent: 60, decided: 60, started: 60, completed: 58, failed: 1, inFlight: 1 }),
        },
      ],
      overall: counts(),
    });
    assert.equal(
      line,
      '12s sending | baseline: 60 sent → 58 decided → 55 started → 50 done (10 in flight, p99 820 ms) | ' +
        'pr-101: 60 sent → 60 decided → 60 started → 58 done, 1 failed (1 in flight, p99 -)',
    );
  });

  it('adds the hint when there is one', () => {
    const line = formatProgress({
      elapsedMs: 50_000,
      phase: 'sending',
      owners: [{ name: 'baseline', counts: counts({ sent: 5, inFlight: 5 }) }],
      overall: counts(),
      hint: 'nothing done 50 s after the first send: …',
    });
    assert.match(line, / \| ⚠ nothing done 50 s after the first send: …$/);
  });
});

describe('the hint when nothing completes', () => {
  it('says nothing while completions come, or for less than the stall time', () => {
    assert.equal(stallHint(state({ lastCompletionAt: T0 + 45_000 })), undefined);
    assert.equal(stallHint(state({ now: T0 + STALL_MS - 1 })), undefined);
    assert.equal(stallHint(state({ firstSentAt: null })), undefined, 'nothing sent yet');
    assert.equal(stallHint(state({ overall: counts({ sent: 10, completed: 10 }) })), undefined, 'all done');
  });

  it('no trail record arrives at all: the trail is off or on another topic', () => {
    assert.equal(
      stallHint(state({ lastRecordAt: null })),
      'nothing done 50 s after the first send, no trail record has arrived on events.results: are the ingress and the workers running, with their trail on (TRAIL_ENABLED) and this KAFKA_RESULTS_TOPIC?',
    );
    assert.match(
      stallHint(state({ lastRecordAt: T0 + 20_000 })) ?? '',
      /no trail record for 30 s on events\.results/,
    );
  });

  it('none decided: the ingress is behind (with the backlog it had) or down', () => {
    assert.equal(
      stallHint(
        state({
          backlog: { ingress: { group: 'ingress', topic: 'events', waiting: 4000 }, queues: [], errors: [] },
        }),
      ),
      "nothing done 50 s after the first send: the ingress has decided none of this run's events: it is behind or down (4000 events waited for it before the run)",
    );
  });

  it('decided, none started: no worker takes the tasks', () => {
    assert.match(
      stallHint(state({ overall: counts({ sent: 2000, decided: 300, inFlight: 2000 }) })) ?? '',
      /: 300 decided, none started: no worker takes the owners' tasks$/,
    );
  });

  it('started, nothing done for a while: slow or stuck workers, with the open workflows they had', () => {
    assert.equal(
      stallHint(
        state({
          lastCompletionAt: T0 + 30_000,
          overall: counts({ sent: 2000, decided: 900, started: 800, completed: 100, inFlight: 1900 }),
          backlog: {
            ingress: null,
            queues: [{ owner: 'baseline', taskQueue: 'orders', running: 1 }],
            errors: [],
          },
        }),
      ),
      "nothing done for 20 s: 800 started, 100 done: the workers are slow or stuck (1 workflow was open on the owners' queues before the run)",
    );
  });
});
