import { isSandboxName } from '@sandbox-routing/shared';
import { InvalidArgumentError } from 'commander';
import { MAX_RATE } from '../options';
import type { RateStage } from './schedule';

/**
 * Parsers of the `load` options. Each returns the typed value or throws commander's
 * `InvalidArgumentError`, which commander prints with the option's name; the CLI then exits with 2
 * before connecting to anything.
 */

/** Longest run (and longest drain): a load test always stops by itself. */
export const MAX_DURATION_MS = 6 * 60 * 60 * 1000;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as k6 writes them: `500ms`, `30s`, `2m`, `1h`, or parts together (`1m30s`); a bare number
 * is seconds. Returns milliseconds.
 */
export function parseDurationMs(text: string): number {
  const trimmed = text.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    ms = Number(trimmed) * 1000;
  } else if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(trimmed)) {
    ms = 0;
    for (const [, value, , unit] of trimmed.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) {
      ms += Number(value) * (UNIT_MS[unit as string] as number);
    }
  } else {
    throw new InvalidArgumentError('expected a duration such as 500ms, 30s, 2m, 1m30s or 1h.');
  }
  if (!(ms > 0) || ms > MAX_DURATION_MS) {
    throw new InvalidArgumentError(
      `expected a duration above 0 and at most ${MAX_DURATION_MS / 3_600_000} h.`,
    );
  }
  return Math.round(ms);
}

/** `--duration`, as commander calls it. */
export const parseDuration = (text: string): number => parseDurationMs(text);

function rateValue(text: string): number {
  const rate = Number(text);
  if (text.trim() === '' || !Number.isFinite(rate) || rate < 0 || rate > MAX_RATE) {
    throw new InvalidArgumentError(`rate ${JSON.stringify(text)}: expected 0 to ${MAX_RATE} events/s.`);
  }
  return rate;
}

/**
 * One `--ramp` stage: `FROM..TO/DURATION` (the rate goes linearly from FROM to TO events per second per
 * owner) or `RATE/DURATION` (flat). Repeated `--ramp` options run one after the other.
 */
export function parseRampStage(text: string): RateStage {
  const match = /^\s*([^/.]+?)(?:\.\.([^/]+?))?\s*\/\s*(.+)$/.exec(text);
  if (!match) {
    throw new InvalidArgumentError(
      'expected FROM..TO/DURATION (e.g. 10..200/60s) or RATE/DURATION (e.g. 50/30s).',
    );
  }
  const from = rateValue(match[1] as string);
  const to = match[2] === undefined ? from : rateValue(match[2]);
  if (from === 0 && to === 0) throw new InvalidArgumentError('a stage with rate 0 throughout sends nothing.');
  return { from, to, durationMs: parseDurationMs(match[3] as string) };
}

/** Accumulates repeated `--ramp` options. */
export function collectRampStage(text: string, previous: RateStage[] = []): RateStage[] {
  return [...previous, parseRampStage(text)];
}

/** Accumulates a repeatable string option (`--sandbox`, `--routing-key`, `--threshold`). */
export function collect<T>(parse: (text: string) => T) {
  return (text: string, previous: T[] = []): T[] => [...previous, parse(text)];
}

/** `--sandbox`: a sandbox name as Signadot accepts them. */
export function parseSandboxName(text: string): string {
  if (!isSandboxName(text)) {
    throw new InvalidArgumentError(
      `sandbox name ${JSON.stringify(text)}: expected at most 30 letters, digits and "-", starting with a letter (not "baseline").`,
    );
  }
  return text;
}
