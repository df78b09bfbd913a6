/**
 * CLI of the routeserver stand-in (a dev tool, not Signadot):
 * `node dev/dist/routeserver/main.js [--host 127.0.0.1] [--port 7778] [--grpc-port 7777 | --no-grpc]
 * [--state-file state.yaml]`.
 * Exit codes: 0 after SIGTERM/SIGINT, 2 for invalid options or state file, 1 if it cannot start.
 */
// The lean entry point: the stand-in stays small (no Temporal, Kafka or metrics libraries loaded).
import { onShutdown } from '@sandbox-routing/service-kit/shutdown';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { InitialState } from './model';
import { createRouteserverStandIn } from './server';
import { loadStateFile } from './state-file';

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new InvalidArgumentError('must be an integer from 0 to 65535.');
  return port;
}

interface CliOptions {
  host: string;
  port: number;
  /** Commander sets `false` for `--no-grpc`. */
  grpc: boolean;
  grpcPort: number;
  stateFile?: string;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('routeserver-standin')
    .description('Stand-in for the Signadot routeserver HTTP and gRPC APIs, with an admin API (dev tool).')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'HTTP port to listen on (0 = any free port)', parsePort, 7778)
    .option('--grpc-port <port>', 'gRPC port of routes.Routes (0 = any free port)', parsePort, 7777)
    .option('--no-grpc', 'serve HTTP only, like a routeserver without the gRPC API')
    .option('--state-file <path>', 'initial sandboxes and route groups (JSON or YAML)')
    .exitOverride();
  try {
    program.parse(argv);
  } catch (error) {
    // Commander has already printed its message; help and version are not errors.
    const ok =
      error instanceof CommanderError && (error.exitCode === 0 || error.code === 'commander.helpDisplayed');
    process.exit(ok ? 0 : 2);
  }
  const options = program.opts<CliOptions>();

  let initialState: InitialState | undefined;
  if (options.stateFile !== undefined) {
    try {
      initialState = loadStateFile(options.stateFile);
    } catch (error) {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(2);
    }
  }

  const standIn = await createRouteserverStandIn({
    host: options.host,
    port: options.port,
    grpcPort: options.grpc ? options.grpcPort : null,
    initialState,
  });
  const grpc = standIn.grpcAddress ? `gRPC on ${standIn.grpcAddress}` : 'no gRPC';
  console.log(`routeserver stand-in listening on ${standIn.url} (${grpc})`);
  onShutdown(() => standIn.close(), 10_000);
}

main(process.argv).catch((error: unknown) => {
  console.error('routeserver stand-in failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
