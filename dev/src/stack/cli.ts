#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { readSettings } from './settings';
import { down, isUp, purge, SECRET_ADDRESSES, status, stopService, up } from './stack';
import { ensureJaeger, ensureKafkaJars, ensureTemporalCli, ensureTemporalTestServerJars } from './tools';

const printAddresses = (addresses: Record<string, string>) => {
  console.log('\nLocal stack is up (written to .stack/env):');
  for (const [key, value] of Object.entries(addresses))
    console.log(`  ${key}=${SECRET_ADDRESSES.includes(key) ? '(secret, in .stack/env)' : value}`);
};

/** Runs a command with the stack's addresses in its environment; returns its exit code. */
async function runWithStack(command: string[]): Promise<number> {
  const [executable, ...args] = command;
  if (!executable) throw new Error('exec needs a command after --');
  const wasUp = isUp();
  let exitCode = 1;
  try {
    // The secured paths' settings are STACK_-prefixed: none of them is a service setting.
    const addresses = await up();
    const child = spawn(executable, args, { stdio: 'inherit', env: { ...process.env, ...addresses } });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  } finally {
    // Stop the stack only if this command brought it up; a stack the user started stays.
    if (!wasUp) await down();
  }
  return exitCode;
}

const program = new Command()
  .name('stack')
  .description(
    'Local stack for development and tests: Kafka (KRaft; plaintext and SASL_SSL listeners), the Temporal dev server and a TLS terminator in front of it (mTLS), the routeserver stand-in, Jaeger (traces).',
  )
  .addHelpText(
    'after',
    `
Examples:
  npm run stack -- up        start everything (first run fetches Kafka jars and builds the Temporal CLI)
  npm run stack -- status    show pids, readiness and memory
  npm run stack -- exec -- node --test dev/dist   run a command against the stack, stopping it after if it started it
  npm run stack -- down      stop exactly the processes it started

Ports: STACK_KAFKA_PORT (9092), STACK_KAFKA_CONTROLLER_PORT (9093), STACK_KAFKA_SASL_SSL_PORT (Kafka's + 2),
STACK_TEMPORAL_PORT (7233), STACK_TEMPORAL_TLS_PORT (Temporal's + 2), STACK_TEMPORAL_UI_PORT (8233),
STACK_TEMPORAL_HTTP_PORT (7243), STACK_TEMPORAL_METRICS_PORT (7244),
STACK_ROUTESERVER_PORT (7778), STACK_JAEGER_OTLP_GRPC_PORT (4317), STACK_JAEGER_OTLP_HTTP_PORT (4318),
STACK_JAEGER_UI_PORT (16686). STACK_ROUTESERVER_STATE_FILE loads initial sandboxes into the stand-in.
STACK_TRACING=off leaves Jaeger out (no build, no process; services then export no traces).`,
  );

program
  .command('up')
  .description('start the stack (no-op when it already runs) and print its addresses')
  .action(async () => printAddresses(await up()));
program
  .command('down')
  .description('stop the processes the stack started')
  .action(() => down());
const SERVERS = ['kafka', 'temporal', 'temporal-tls', 'routeserver', 'jaeger'] as const;
program
  .command('stop')
  .description('stop one server (kafka, temporal, temporal-tls, routeserver or jaeger); `up` starts it again')
  .argument('<server>', SERVERS.join(' | '))
  .action(async (server: string) => {
    const known = SERVERS.find((name) => name === server);
    if (!known) throw new Error(`unknown server "${server}": ${SERVERS.join(', ')}`);
    await stopService(known);
  });
program
  .command('status')
  .description('show each server: pid, running, ready, memory')
  .action(async () => {
    const rows = await status();
    for (const row of rows) {
      const state = row.running ? (row.ready ? 'ready' : 'running, not ready') : 'stopped';
      const memory = row.rssMiB !== undefined ? `, ${row.rssMiB} MiB` : '';
      console.log(
        `${row.name.padEnd(12)} ${state}${row.pid && row.running ? ` (pid ${row.pid}${memory})` : ''}`,
      );
    }
    process.exitCode = rows.every((r) => r.ready) ? 0 : 3;
  });
const INSTALLABLE = ['kafka', 'temporal', 'temporal-test-server', 'jaeger'] as const;
program
  .command('install')
  .description(
    'fetch the Kafka and Temporal test server jars and build the Temporal CLI and Jaeger (unless STACK_TRACING=off) if missing; ' +
      'name some of them to install only those (setup runs one process each, side by side)',
  )
  .argument('[tools...]', `any of ${INSTALLABLE.join(', ')} (default: all)`)
  .action((tools: string[]) => {
    const unknown = tools.filter((tool) => !(INSTALLABLE as readonly string[]).includes(tool));
    if (unknown.length > 0)
      program.error(`unknown tool ${unknown.join(', ')}: use ${INSTALLABLE.join(', ')}`);
    const wanted = (tool: (typeof INSTALLABLE)[number]) => tools.length === 0 || tools.includes(tool);
    if (wanted('kafka')) console.log(`[stack] Kafka jars: ${ensureKafkaJars()}`);
    if (wanted('temporal')) console.log(`[stack] Temporal CLI: ${ensureTemporalCli()}`);
    if (wanted('temporal-test-server'))
      console.log(`[stack] Temporal test server jars: ${ensureTemporalTestServerJars()}`);
    if (wanted('jaeger'))
      console.log(
        `[stack] Jaeger: ${readSettings().tracing ? ensureJaeger() : 'skipped (STACK_TRACING=off)'}`,
      );
  });
program
  .command('purge')
  .description("delete the stack's data and logs (stack must be down)")
  .action(() => purge());
program
  .command('exec')
  .description('bring the stack up, run a command with its addresses in the environment, then bring it down')
  .argument('<command...>', 'command to run (after --)')
  .action(async (command: string[]) => {
    process.exitCode = await runWithStack(command);
  });

program.parseAsync().catch((error: unknown) => {
  console.error(`[stack] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
