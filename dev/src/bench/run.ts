import type { Command } from 'commander';

/** Parses the command line and runs a bench; a failure prints the error and exits with 1. */
export function runBench(command: Command): void {
  command.parseAsync().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
