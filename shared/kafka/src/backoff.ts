/** How long to wait before the next attempt: exponential, capped, with jitter. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/**
 * The delay before attempt `attempt + 1` (attempt counts from 1): `initialMs · 2^(attempt-1)`, capped at
 * `maxMs`, of which a random half ("equal jitter": never near zero, so a persistent failure is not
 * hammered, yet instances that failed together spread out).
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
