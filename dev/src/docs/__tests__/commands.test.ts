import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { commandsOf, docCommands, planFor } from '../commands';

const block = (text: string, language = 'sh', skipReason?: string) => ({
  page: 'docs/x.md',
  line: 10,
  language,
  text,
  ...(skipReason ? { skipReason } : {}),
});

describe('docs commands: extraction', () => {
  it('joins continuation lines and pipes, drops comments, splits && lists', () => {
    const commands = commandsOf(
      block(
        [
          '# a comment line',
          'kcat -P -b 127.0.0.1:9092 -t events \\',
          "  -H 'baggage=a#b'        # the key",
          "printf 'x\\n' |",
          '  npm run --silent kafka -- console-producer --topic events',
          '',
          'npm run bench:routes && npm run bench:latency   # numbers',
        ].join('\n'),
      ),
    ).map((c) => `${c.line}: ${c.text}`);
    assert.deepEqual(commands, [
      "12: kcat -P -b 127.0.0.1:9092 -t events -H 'baggage=a#b'",
      "14: printf 'x\\n' | npm run --silent kafka -- console-producer --topic events",
      '17: npm run bench:routes',
      '17: npm run bench:latency',
    ]);
  });

  it('reads only the $ lines of a console block, and carries a block opt-out', () => {
    const commands = commandsOf(block('$ npm run stack -- status\nkafka ready', 'console', 'output differs'));
    assert.deepEqual(
      commands.map((c) => [c.text, c.skipReason]),
      [['npm run stack -- status', 'output differs']],
    );
  });
});

describe('docs commands: pages', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'docs-commands-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('reads shell blocks only, and an opt-out comment before a block skips its commands', () => {
    mkdirSync(path.join(root, 'docs'));
    writeFileSync(
      path.join(root, 'README.md'),
      '# T\n\n```ts\nconst x = 1;\n```\n\n<!-- docs-test: skip needs a GPU -->\n\n```bash\nmake gpu\n```\n',
    );
    writeFileSync(path.join(root, 'docs', 'a.md'), '# A\n\n```sh\nnpm test\n```\n');
    assert.deepEqual(
      docCommands(root).map((c) => [c.page, c.line, c.text, c.skipReason]),
      [
        ['README.md', 10, 'make gpu', 'needs a GPU'],
        ['docs/a.md', 4, 'npm test', undefined],
      ],
    );
  });
});

describe('docs commands: plans', () => {
  it('a command no rule knows is unknown, an opted-out one is skipped', () => {
    const command = { page: 'README.md', line: 1, blockLine: 1, text: 'rm -rf .stack' };
    assert.equal(planFor(command).action, 'unknown');
    assert.equal(planFor({ ...command, skipReason: 'example' }).action, 'skip');
  });

  it('runs only bounded commands: a small publish, not a load or a big batch', () => {
    const plan = (text: string) => planFor({ page: 'README.md', line: 1, blockLine: 1, text }).action;
    assert.equal(plan('$P publish --routing-key k --count 10'), 'run');
    assert.equal(plan('$P publish --count 600 --rate 50 --json'), 'check');
    assert.equal(plan('node producer/dist/cli.js load --rate 20 --duration 60s'), 'check');
    assert.equal(plan('npm test'), 'check');
    assert.equal(plan('npm run stack -- down'), 'check');
    assert.equal(plan('npm run stack -- status'), 'run');
  });

  it('a stack command the CLI does not have fails its check', () => {
    const plan = planFor({ page: 'README.md', line: 1, blockLine: 1, text: 'npm run stack -- statu' });
    assert.equal(plan.action === 'check' && plan.check(), 'the stack CLI has no command "statu"');
    const known = planFor({ page: 'README.md', line: 1, blockLine: 1, text: 'npm run stack -- purge' });
    assert.equal(known.action === 'check' && known.check(), undefined);
  });

  it('every command of README.md and docs/*.md has a plan, and every static check passes', () => {
    const problems = docCommands().flatMap((command) => {
      const plan = planFor(command);
      const where = `${command.page}:${command.line} ${command.text}`;
      if (plan.action === 'unknown')
        return [`${where}: no rule knows this command (add one, or opt the block out)`];
      if (plan.action === 'check') {
        const problem = plan.check();
        return problem ? [`${where}: ${problem}`] : [];
      }
      return [];
    });
    assert.deepEqual(problems, []);
  });
});
