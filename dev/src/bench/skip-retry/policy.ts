/**
 * Whose routing keys a skip-and-retry worker takes (workflow-sandbox safe: plain data and logic).
 * As in the Python tutorial: a sandbox's worker takes only its sandbox's keys; the baseline takes
 * every other key and work without one.
 */
export interface SkipRetryPolicy {
  /** `baseline` or the sandbox name. */
  instance: string;
  /** The sandbox's own keys (sandbox worker) or every sandbox's keys (baseline worker). */
  keys: string[];
}

export function ownsKey(policy: SkipRetryPolicy, key: string | undefined): boolean {
  const listed = key !== undefined && policy.keys.includes(key);
  return policy.instance === 'baseline' ? !listed : listed;
}
