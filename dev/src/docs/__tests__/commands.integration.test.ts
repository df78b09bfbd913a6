import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pollUntil, stackEnv } from '@sandbox-routing/testkit';
import { REPO_ROOT, TOOLS_DIR } from '../../stack/paths';
import { docCommands, onStack, planFor } from '../commands';

/**
 * "A test runs every command the docs show": each shell command of README.md and docs/*.md is run on
 * the local stack when it is safe and bounded, else checked statically with its reason, or skipped by
 * its block's `<!-- docs-test: skip <reason> -->`. Prints what it did with each.
 */
describe('every command the docs show', () => {
  it('runs the runnable ones on the local stack, checks the rest', async () => {
    const stack = stackEnv();
    const addresses = {
      kafkaBroker: stack.KAFKA_BROKERS.split(',')[0] ?? '',
      temporal: stack.TEMPORAL_ADDRESS,
      routeserver: new URL(stack.SIGNADOT_ROUTESERVER_URL).host,
      ...(stack.STACK_TEMPORAL_TLS_ADDRESS ? { temporalTls: stack.STACK_TEMPORAL_TLS_ADDRESS } : {}),
    };
    const env = {
      ...process.env,
      ...stack,
      PATH: `${path.join(TOOLS_DIR, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
    };
    // Commands of one block share its shell set-up (`set -a; . .stack/env`, `P=…`), as a reader's shell would.
    const preludes = new Map<string, string[]>();
    const report: string[] = [];
    const problems: string[] = [];
    for (const command of docCommands()) {
      const where = `${command.page}:${command.line}`;
      const plan = planFor(command);
      const blockKey = `${command.page}:${command.blockLine}`;
      const prelude = preludes.get(blockKey) ?? [];
      if (plan.action === 'unknown') {
        problems.push(`${where} ${command.text}: no rule knows this command`);
        report.push(`UNKNOWN  ${where}  ${command.text}`);
        continue;
      }
      if (plan.action === 'skip' || plan.action === 'check') {
        const problem = plan.action === 'check' ? plan.check() : undefined;
        if (problem) problems.push(`${where} ${command.text}: ${problem}`);
        report.push(
          `${plan.action === 'skip' ? 'skipped' : 'checked'}  ${where}  ${plan.kind}: ${plan.reason}${problem ? ` — FAILED: ${problem}` : ''}`,
        );
        continue;
      }
      const shown = onStack(command.text, addresses);
      const started = Date.now();
      const runOnce = () =>
        spawnSync('bash', ['-c', ['set -eo pipefail', ...prelude, shown].join('\n')], {
          cwd: REPO_ROOT,
          env,
          encoding: 'utf8',
          timeout: plan.action === 'run' ? plan.timeoutMs : 30_000,
          input: '',
          // `kcat -C … -e` prints the whole events topic, which the full suite fills well past the 1 MiB default.
          maxBuffer: 256 * 1024 * 1024,
        });
      let result = runOnce();
      if (plan.action === 'run' && plan.untilOk && result.status !== 0) {
        result = await pollUntil(
          () => {
            const again = runOnce();
            result = again;
            return again.status === 0 ? again : undefined;
          },
          { description: `${shown} to succeed`, timeoutMs: plan.timeoutMs, intervalMs: 1000 },
        ).catch(() => result);
      }
      const took = `${Date.now() - started} ms`;
      if (result.status !== 0) {
        const output = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim().split('\n').slice(-5).join('\n');
        problems.push(`${where} ${shown}: exit ${result.status ?? result.signal}\n${output}`);
      }
      report.push(
        `ran      ${where}  ${plan.kind} (${took}, exit ${result.status ?? result.signal}): ${shown}`,
      );
      if (plan.action === 'prelude') preludes.set(blockKey, [...prelude, shown]);
    }
    console.log(`docs commands:\n${report.join('\n')}`);
    assert.deepEqual(problems, []);
  });
});
