/**
 * The sending schedule of a load run: a list of stages, each a rate that goes linearly from `from` to
 * `to` events per second over `durationMs` (`--rate 50 --duration 60s` is one flat stage,
 * `--ramp 10..200/60s` one ramp; several `--ramp` stages run one after the other, like k6's stages).
 * The rate is per owner: every owner gets the same schedule.
 */

/** One stage of the schedule. */
export interface RateStage {
  /** Events per second at the start of the stage. */
  from: number;
  /** Events per second at its end. */
  to: number;
  durationMs: number;
}

/** Most events one run may plan per owner: every event is tracked in memory until the run ends. */
export const MAX_EVENTS_PER_OWNER = 250_000;

/** Too many events planned (rate × duration); the CLI exits with a usage error. */
export class ScheduleTooLargeError extends Error {
  override readonly name = 'ScheduleTooLargeError';
  constructor(readonly events: number) {
    super(
      `the schedule plans ${events} events per owner, more than ${MAX_EVENTS_PER_OWNER}; lower the rate or the duration`,
    );
  }
}

/**
 * When the n-th event (from 0) of a stage is due, in ms from the stage's start: the time at which the
 * events sent so far, the integral of the rate, reach n. With rate r(t) = a + (b − a)·t/T the count is
 * N(t) = a·t + (b − a)·t²/(2T), solved for t.
 */
function dueInStage(stage: RateStage, n: number): number {
  const seconds = stage.durationMs / 1000;
  const { from: a, to: b } = stage;
  if (a === b) return (n / a) * 1000;
  const half = (b - a) / (2 * seconds);
  // half·t² + a·t − n = 0; the root in [0, T] (the discriminant is ≥ 0 while n ≤ N(T)).
  const t = (-a + Math.sqrt(Math.max(0, a * a + 4 * half * n))) / (2 * half);
  return t * 1000;
}

/** How many events a stage sends: N(T), rounded down. */
export function stageEvents(stage: RateStage): number {
  const seconds = stage.durationMs / 1000;
  // A tiny epsilon so that 10/s for 3 s is 30 events, not 29.999….
  return Math.floor(((stage.from + stage.to) / 2) * seconds + 1e-9);
}

/** The due times of every event of a schedule, in ms from the run's start, ascending. */
export class RateSchedule {
  readonly stages: readonly RateStage[];
  /** Due time of each event, in ms from the start. */
  readonly dueMs: Float64Array;
  readonly durationMs: number;

  constructor(stages: readonly RateStage[]) {
    if (stages.length === 0) throw new RangeError('a schedule needs at least one stage');
    this.stages = stages;
    const total = stages.reduce((sum, stage) => sum + stageEvents(stage), 0);
    if (total > MAX_EVENTS_PER_OWNER) throw new ScheduleTooLargeError(total);
    this.dueMs = new Float64Array(total);
    let index = 0;
    let offset = 0;
    for (const stage of stages) {
      const count = stageEvents(stage);
      for (let n = 0; n < count; n++) this.dueMs[index++] = offset + dueInStage(stage, n);
      offset += stage.durationMs;
    }
    this.durationMs = offset;
  }

  /** Events per owner. */
  get size(): number {
    return this.dueMs.length;
  }

  /** The planned rate (events per second per owner) at `ms` from the start; 0 after the end. */
  rateAt(ms: number): number {
    let offset = 0;
    for (const stage of this.stages) {
      if (ms < offset + stage.durationMs) {
        return stage.from + ((stage.to - stage.from) * (ms - offset)) / stage.durationMs;
      }
      offset += stage.durationMs;
    }
    return 0;
  }

  /** How many events are due at `ms` from the start (the index of the first one not yet due). */
  dueBy(ms: number): number {
    // Binary search: the first index whose due time is after `ms`.
    let low = 0;
    let high = this.dueMs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.dueMs[mid] as number) <= ms) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
