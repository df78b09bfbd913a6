/**
 * Durations as people type them on command lines (and k6 writes them): `500ms`, `30s`, `2m`, `1h`, or
 * parts together (`1m30s`); a bare number is seconds. Every command line of the project parses its
 * durations here, so `--drain-timeout 30s` and `--fork-timeout 30s` mean the same.
 */

/** The longest duration accepted unless told otherwise: anything a command waits for ends. */
export const MAX_DURATION_MS = 6 * 60 * 60 * 1000;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Milliseconds of `text`, rounded to whole milliseconds.
 * @throws RangeError naming what is expected, when `text` is no duration, rounds to 0 ms, or is above
 *   `maxMs`
 */
export function parseDurationMs(text: string, maxMs = MAX_DURATION_MS): number {
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
    throw new RangeError('expected a duration such as 500ms, 30s, 2m, 1m30s or 1h.');
  }
  const rounded = Math.round(ms);
  if (!(rounded > 0) || rounded > maxMs) {
    throw new RangeError(`expected a duration above 0 and at most ${formatDuration(maxMs)}.`);
  }
  return rounded;
}

/** `ms` the way {@link parseDurationMs} reads it back, in the largest unit that divides it: `6h`, `90s`. */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
