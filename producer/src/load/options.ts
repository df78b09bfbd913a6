import { isSandboxName } from '@sandbox-routing/core';
import { optionParser, parseDurationMs as parseSharedDurationMs } from '@sandbox-routing/service-kit';
import { InvalidArgumentError } from 'commander';
import { MAX_RATE } from '../options';
import type { RateStage } from './schedule';

/**
 * Parsers of the `load` options. Each returns the typed value or throws commander's
 * `InvalidArgumentError`, which commander prints with the option's name; the CLI then exits with 2
 * before connecting to anything.
 */

/**
 * A duration as k6 writes them: `500ms`, `30s`, `2m`, `1h`, or parts together (`1m30s`); a bare number
 * is seconds. Returns milliseconds. At most 6 h (and so the longest drain): a load test always stops by
 * itself. The parser is the one every command line shares.
 */
export const parseDurationMs = optionParser(parseSharedDurationMs, InvalidArgumentError);

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
      `sandbox name ${JSON.stringify(text)}: expected at most 30 letters, digits and "-", starting with a letter.`,
    );
  }
  return text;
}
