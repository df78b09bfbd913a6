import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLI_EXIT, type CliProgram, optionParser, runCli } from '../cli';

/** commander's errors as it throws them after `exitOverride()` (only their documented fields). */
function commanderError(exitCode: number, code: string): Error {
  return Object.assign(new Error(code), { code, exitCode });
}

/** A program whose parse throws `error`, or runs the action with `options`. */
function program(outcome: { error?: unknown; options?: { n: number } }): CliProgram<{ n: number }> & {
  overridden: boolean;
} {
  let action: ((options: { n: number }) => Promise<void>) | undefined;
  return {
    overridden: false,
    exitOverride() {
      this.overridden = true;
    },
    action(run) {
      action = run;
    },
    async parseAsync() {
      if (outcome.error) throw outcome.error;
      await action?.(outcome.options ?? { n: 0 });
    },
  };
}

describe('runCli', () => {
  it("exits with what the action resolves, and turns commander's exits into exit codes", async () => {
    const ran = program({ options: { n: 3 } });
    assert.equal(await runCli(ran, async ({ n }) => n), 3);
    assert.ok(ran.overridden, 'commander throws instead of exiting');
    const help = program({ error: commanderError(0, 'commander.helpDisplayed') });
    assert.equal(await runCli(help, async () => 1), CLI_EXIT.ok);
    for (const code of [
      'commander.invalidArgument',
      'commander.missingMandatoryOptionValue',
      'commander.error',
    ]) {
      assert.equal(
        await runCli(program({ error: commanderError(1, code) }), async () => 0),
        CLI_EXIT.usage,
        code,
      );
    }
  });

  it('prints any other error and exits 1', async () => {
    const printed: string[] = [];
    const code = await runCli(
      program({}),
      async () => {
        throw new Error('Temporal unreachable');
      },
      { printError: (message) => printed.push(message) },
    );
    assert.equal(code, CLI_EXIT.failed);
    assert.deepEqual(printed, ['Temporal unreachable']);
  });

  it("optionParser hands the parser's message to the caller's InvalidArgumentError", () => {
    class InvalidArgumentError extends Error {}
    const parse = optionParser((text: string) => {
      if (text !== 'ok') throw new RangeError(`expected ok, got ${text}`);
      return 1;
    }, InvalidArgumentError);
    assert.equal(parse('ok'), 1);
    assert.throws(
      () => parse('no'),
      (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError);
        assert.equal(error.message, 'expected ok, got no');
        return true;
      },
    );
  });
});
