/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits: 0 when it finished within `graceMs`, 1 otherwise.
 * Kubernetes sends SIGTERM and waits terminationGracePeriodSeconds; keep `graceMs` below it. With a
 * `logger`, what goes wrong is logged through it (as JSON); else on stderr.
 */
export function onShutdown(
  stop: (signal: NodeJS.Signals) => Promise<void>,
  graceMs = 30_000,
  logger?: { error(fields: object, message: string): void },
): void {
  const report = (message: string, error?: unknown) => {
    if (logger) logger.error(error === undefined ? {} : { error: errorText(error) }, message);
    else if (error === undefined) console.error(message);
    else console.error(message, error);
  };
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => {
      report(`shutdown did not finish within ${graceMs} ms; exiting`);
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        report('error during shutdown', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
