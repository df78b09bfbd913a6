/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits: 0 when it finished within `graceMs`, 1 otherwise.
 * Kubernetes sends SIGTERM and waits terminationGracePeriodSeconds; keep `graceMs` below it.
 */
export function onShutdown(stop: (signal: NodeJS.Signals) => Promise<void>, graceMs = 30_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => {
      console.error(`shutdown did not finish within ${graceMs} ms; exiting`);
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('error during shutdown', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
