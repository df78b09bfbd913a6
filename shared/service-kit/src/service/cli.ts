/**
 * What the project's command lines share, so they behave alike: their names, exit codes, and how a
 * commander program is run (usage errors exit 2, as the producer's do). Each workspace has its own copy
 * of commander (the root holds an old one for a tool), so nothing here imports it: programs and errors
 * are recognised by their documented shape.
 */

/** How users run the commands (the bins in node_modules/.bin): usage lines, examples and messages say these. */
export const COMMAND_NAMES = {
  producer: 'sandbox-routing',
  ingressTeardown: 'sandbox-routing-ingress-teardown',
  workerTeardown: 'sandbox-routing-worker-teardown',
} as const;

/** Exit codes every command line uses: sysexits-style 78 for configuration, 2 for usage. */
export const CLI_EXIT = { ok: 0, failed: 1, usage: 2, config: 78 } as const;

/** The part of a commander `Command` that {@link runCli} uses. */
export interface CliProgram<Options> {
  exitOverride(): unknown;
  action(run: (options: Options) => Promise<void>): unknown;
  parseAsync(argv?: readonly string[]): Promise<unknown>;
}

/** commander's own errors (`CommanderError`): a `commander.*` code and the exit code it suggests. */
function isCommanderError(error: unknown): error is Error & { code: string; exitCode: number } {
  const { code, exitCode } = (error ?? {}) as { code?: unknown; exitCode?: unknown };
  return typeof code === 'string' && code.startsWith('commander.') && typeof exitCode === 'number';
}

function printToStderr(message: string): void {
  process.stderr.write(`error: ${message}\n`);
}

/**
 * Parses `argv` with `program` and runs its action `run`, which resolves with the exit code. commander
 * prints its own messages (and `--help`) and then throws instead of exiting: `--help` and `--version`
 * give {@link CLI_EXIT}.ok, every usage error (unknown option, bad or missing value, `program.error()`
 * in the action) {@link CLI_EXIT}.usage. Anything else `run` throws is printed and gives
 * {@link CLI_EXIT}.failed.
 */
export async function runCli<Options>(
  program: CliProgram<Options>,
  run: (options: Options) => Promise<number>,
  io: { argv?: readonly string[]; printError?: (message: string) => void } = {},
): Promise<number> {
  let exitCode: number = CLI_EXIT.ok;
  program.exitOverride();
  program.action(async (options: Options) => {
    exitCode = await run(options);
  });
  try {
    await program.parseAsync(io.argv ?? process.argv);
  } catch (error) {
    if (isCommanderError(error)) return error.exitCode === 0 ? CLI_EXIT.ok : CLI_EXIT.usage;
    (io.printError ?? printToStderr)(error instanceof Error ? error.message : String(error));
    return CLI_EXIT.failed;
  }
  return exitCode;
}

/**
 * `parse` as a commander option parser: what it throws becomes the caller's `InvalidArgumentError`, which
 * commander prints with the option's name (and {@link runCli} turns into exit 2).
 */
export function optionParser<T>(
  parse: (text: string) => T,
  InvalidArgumentError: new (message: string) => Error,
): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };
}
