/** Thrown when a polled condition does not become true before its deadline. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
}

export interface PollOptions {
  /** What is awaited, for the error message. */
  description: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Checked on every round; throw from it to stop waiting early (e.g. the process died). */
  abortIf?: () => void;
}

/**
 * Polls `probe` until it returns a value other than `undefined`/`false`, or the deadline passes.
 * Used instead of fixed sleeps everywhere readiness matters.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: PollOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 200;
  let lastError: unknown;
  for (;;) {
    options.abortIf?.();
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new DeadlineExceededError(
        `timed out after ${options.timeoutMs} ms waiting for ${options.description}${detail}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
