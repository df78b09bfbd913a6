import type { ClientReadableStream, Client as GrpcClient } from '@grpc/grpc-js';
import { isValidRoutingKey } from '../routing-key';
import { LubyBackoff } from './backoff';
import type { RoutingRulesFilter } from './client';
import { RouteserverWatchError } from './errors';
import { type RoutingLogger, silentLogger } from './logger';
import {
  routesServiceDefinition,
  type WorkloadRoutingRuleMessage,
  type WorkloadRoutingRuleOpMessage,
  type WorkloadRoutingRulesRequestMessage,
} from './proto';
import type { RoutingRule } from './types';

/**
 * `@grpc/grpc-js`, loaded when a watch starts: importing the core (to read a key, or to poll) does not
 * load gRPC.
 */
function grpc(): typeof import('@grpc/grpc-js') {
  return require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
}

/** A change to a watched set after its SYNCED. A rule is identified by its baseline and routing key. */
export type RoutingRuleChange = 'ADD' | 'REMOVE' | 'REPLACE';

/** How a watch stream ended, and what happens next. */
export interface WatchEnded {
  error: RouteserverWatchError;
  /** True when the stream had reached SYNCED (it broke); false when the attempt failed. */
  synced: boolean;
  /** Delay before the next attempt. */
  retryInMs: number;
}

/** What a watch reports. Calls never overlap; `synced` always comes before the `change`s of a stream. */
export interface RoutingRulesWatchListener {
  /** A stream reached SYNCED: `rules` is the complete set, received fresh on this stream. */
  synced(rules: RoutingRule[]): void;
  /** A change after SYNCED. */
  change(op: RoutingRuleChange, rule: RoutingRule): void;
  /** A stream ended or an attempt failed; the watch tries again after `retryInMs`. */
  ended(info: WatchEnded): void;
}

/** A running watch. */
export interface RoutingRulesWatch {
  /** Ends the stream and stops reconnecting. */
  stop(): void;
}

/** Where a route table gets pushed rule changes: the gRPC client below, or anything with this shape. */
export interface RoutingRulesWatchSource {
  /** A description for logs, e.g. the address. */
  readonly address: string;
  watch(filter: RoutingRulesFilter, listener: RoutingRulesWatchListener): RoutingRulesWatch;
}

export interface RouteserverWatchClientOptions {
  /** gRPC address of the routeserver, `host:port` (in cluster `routeserver.signadot.svc:7777`). */
  address: string;
  /** How long one attempt may take to connect. */
  connectTimeoutMs: number;
  /** How long a stream may take from connecting to its SYNCED before it counts as failed. */
  syncTimeoutMs: number;
  /** Reconnect delays: Luby sequence times `baseMs`, capped at `maxMs`, ±10 % jitter. */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  /** HTTP/2 keepalive ping interval and timeout (Signadot's Go client: 5 s and 15 s). */
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  logger?: RoutingLogger;
}

const JITTER = 0.1;

/** A rule as the route table keeps it, or undefined for one it cannot use (logged by the caller). */
function toRule(message: WorkloadRoutingRuleMessage | null): RoutingRule | undefined {
  const baseline = message?.baseline;
  const sandbox = message?.destinationSandbox?.name;
  if (!message || !baseline || !sandbox || !isValidRoutingKey(message.routingKey)) return undefined;
  return {
    routingKey: message.routingKey,
    baseline: { kind: baseline.kind, namespace: baseline.namespace, name: baseline.name },
    destinationSandbox: { name: sandbox },
  };
}

function toRequest(filter: RoutingRulesFilter): WorkloadRoutingRulesRequestMessage {
  return {
    baselineWorkload: {
      kind: filter.baselineKind ?? '',
      namespace: filter.baselineNamespace ?? '',
      name: filter.baselineName ?? '',
    },
    routingKey: filter.routingKey ?? '',
    destinationSandbox: { name: filter.destinationSandboxName ?? '' },
  };
}

/**
 * A client of the routeserver's `WatchWorkloadRoutingRules` stream, in the manner of Signadot's Go
 * `watched` package: one long-lived stream per watch; each (re)connection collects the ADDs up to SYNCED
 * into a fresh set before handing it over whole (so a consumer never sees a partial set and can apply
 * the difference); a failed attempt backs off by the Luby sequence with jitter; HTTP/2 keepalive pings
 * find a dead connection. Every attempt uses a new channel, so gRPC's own reconnect backoff never
 * stacks on top of ours.
 */
export class RouteserverWatchClient implements RoutingRulesWatchSource {
  readonly address: string;

  constructor(private readonly options: RouteserverWatchClientOptions) {
    this.address = options.address;
  }

  watch(filter: RoutingRulesFilter, listener: RoutingRulesWatchListener): RoutingRulesWatch {
    return new GrpcRulesWatch(this.options, toRequest(filter), listener);
  }
}

/**
 * Calls `done()` once the channel is connected, or `done(problem)` as soon as connecting failed
 * (refused, no such host) or `timeoutMs` passed. `waitForReady` alone would wait out the deadline
 * even after a refused connection.
 */
function whenConnected(client: GrpcClient, timeoutMs: number, done: (problem?: string) => void): void {
  const channel = client.getChannel();
  const deadline = Date.now() + timeoutMs;
  const check = () => {
    const state = channel.getConnectivityState(true);
    if (state === grpc().connectivityState.READY) return done();
    if (state === grpc().connectivityState.TRANSIENT_FAILURE) return done('connection failed');
    channel.watchConnectivityState(state, deadline, (error) =>
      error ? done(`not connected within ${timeoutMs} ms`) : check(),
    );
  };
  check();
}

class GrpcRulesWatch implements RoutingRulesWatch {
  private readonly backoff: LubyBackoff;
  private readonly logger: RoutingLogger;
  private client: GrpcClient | undefined;
  private call: ClientReadableStream<WorkloadRoutingRuleOpMessage> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly options: RouteserverWatchClientOptions,
    private readonly request: WorkloadRoutingRulesRequestMessage,
    private readonly listener: RoutingRulesWatchListener,
  ) {
    this.backoff = new LubyBackoff({
      baseMs: options.reconnectBaseMs,
      maxMs: options.reconnectMaxMs,
      jitter: JITTER,
    });
    this.logger = options.logger ?? silentLogger;
    this.attempt();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.call?.cancel();
    this.client?.close();
  }

  private attempt(): void {
    if (this.stopped) return;
    const client = new (grpc().Client)(this.options.address, grpc().credentials.createInsecure(), {
      'grpc.keepalive_time_ms': this.options.keepaliveTimeMs ?? 5000,
      'grpc.keepalive_timeout_ms': this.options.keepaliveTimeoutMs ?? 15_000,
      // A channel of its own: no backoff state shared with other channels to the same address.
      'grpc.use_local_subchannel_pool': 1,
    });
    this.client = client;
    whenConnected(client, this.options.connectTimeoutMs, (problem) => {
      if (this.stopped) return;
      if (problem) {
        const reason = `routeserver gRPC ${this.options.address} not reachable: ${problem}`;
        this.finish(new RouteserverWatchError(reason, grpc().status.UNAVAILABLE), false, 0);
      } else {
        this.stream(client);
      }
    });
  }

  private stream(client: GrpcClient): void {
    const method = routesServiceDefinition().WatchWorkloadRoutingRules;
    if (!method) throw new Error('routes.proto has no WatchWorkloadRoutingRules');
    const call = client.makeServerStreamRequest<
      WorkloadRoutingRulesRequestMessage,
      WorkloadRoutingRuleOpMessage
    >(method.path, method.requestSerialize, method.responseDeserialize, this.request);
    this.call = call;
    const initial: RoutingRule[] = [];
    let syncedAt = 0;
    let ended = false;
    const end = (error: RouteserverWatchError) => {
      if (ended) return;
      ended = true;
      clearTimeout(syncTimer);
      call.cancel();
      this.finish(error, syncedAt > 0, syncedAt);
    };
    const syncTimer = setTimeout(() => {
      const reason = `routeserver gRPC ${this.options.address} sent no SYNCED within ${this.options.syncTimeoutMs} ms`;
      end(new RouteserverWatchError(reason, grpc().status.DEADLINE_EXCEEDED));
    }, this.options.syncTimeoutMs);
    syncTimer.unref();

    call.on('data', (message: WorkloadRoutingRuleOpMessage) => {
      if (ended) return;
      if (message.op === 'SYNCED') {
        if (syncedAt > 0) return; // at most one per stream; a second one says nothing new
        syncedAt = Date.now();
        clearTimeout(syncTimer);
        this.listener.synced(initial.splice(0));
        return;
      }
      const rule = toRule(message.route);
      if (!rule) {
        this.logger.warn(
          { op: message.op, route: message.route },
          'ignoring a watch op without a usable rule',
        );
        return;
      }
      if (syncedAt > 0) {
        this.listener.change(message.op, rule);
      } else if (message.op === 'ADD') {
        initial.push(rule);
      } else {
        const reason = `routeserver gRPC ${this.options.address} sent ${message.op} before SYNCED`;
        end(new RouteserverWatchError(reason, grpc().status.INTERNAL));
      }
    });
    // Every end of the call, OK or not, arrives as a status; 'error' repeats the non-OK ones.
    call.on('error', () => {});
    call.on('status', (result) => {
      const reason =
        result.code === grpc().status.OK
          ? `routeserver gRPC ${this.options.address} ended the watch stream`
          : `routeserver gRPC ${this.options.address}: ${grpc().status[result.code] ?? result.code} ${result.details}`;
      end(
        new RouteserverWatchError(
          reason,
          result.code === grpc().status.OK ? grpc().status.UNAVAILABLE : result.code,
        ),
      );
    });
  }

  /** Closes this attempt's channel and schedules the next attempt. */
  private finish(error: RouteserverWatchError, synced: boolean, syncedAt: number): void {
    this.call = undefined;
    this.client?.close();
    this.client = undefined;
    if (this.stopped) return;
    // A stream that synced and then lived a while broke; it did not fail. Reconnect almost at once
    // (jitter spreads many clients of one restarted routeserver), and start the sequence over.
    let retryInMs: number;
    if (synced && Date.now() - syncedAt >= this.options.reconnectBaseMs) {
      this.backoff.reset();
      retryInMs = Math.round(Math.random() * JITTER * this.options.reconnectBaseMs);
    } else {
      retryInMs = this.backoff.next();
    }
    this.listener.ended({ error, synced, retryInMs });
    this.timer = setTimeout(() => this.attempt(), retryInMs);
    this.timer.unref();
  }
}
