/**
 * gRPC side of the routeserver stand-in (a dev tool, not Signadot): `routes.Routes` from the library's
 * routes.proto, with `GetWorkloadRoutingRules` and the streaming `WatchWorkloadRoutingRules`, derived
 * from the same model and filter as the HTTP API, so both always agree.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import {
  type GetWorkloadRoutingRulesResponseMessage,
  routesServiceDefinition,
  type WatchOpName,
  type WorkloadRoutingRuleMessage,
  type WorkloadRoutingRuleOpMessage,
  type WorkloadRoutingRulesRequestMessage,
} from '@sandbox-routing/core/routes-proto';
import {
  filterRoutingRules,
  type RouteserverModel,
  type RoutingRule,
  type RoutingRuleFilter,
  ruleIdentity,
} from './model';

/** Calls served, for `GET /admin/requests` (the benchmarks compare watch and polling load). */
export interface GrpcCounters {
  getWorkloadRoutingRules: number;
  /** Watch streams opened. */
  watchWorkloadRoutingRules: number;
}

export interface RoutesGrpcServer {
  /** `host:port` it listens on. */
  address: string;
  counters: GrpcCounters;
  /** Watch streams open now. */
  activeWatches(): number;
  /** Closes at once: open streams end as on a server crash or restart. */
  close(): void;
}

function filterOf(request: WorkloadRoutingRulesRequestMessage): RoutingRuleFilter {
  return {
    baselineKind: request.baselineWorkload?.kind,
    baselineNamespace: request.baselineWorkload?.namespace,
    baselineName: request.baselineWorkload?.name,
    routingKey: request.routingKey,
    destinationSandboxName: request.destinationSandbox?.name,
  };
}

function toMessage(rule: RoutingRule): WorkloadRoutingRuleMessage {
  return {
    routingKey: rule.routingKey,
    baseline: { ...rule.baseline },
    destinationSandbox: { name: rule.destinationSandbox.name },
    mappings: [], // stand-in forks have no Services
  };
}

const UNIMPLEMENTED = {
  code: status.UNIMPLEMENTED,
  details: 'routeserver stand-in: injected failure (grpc=unimplemented)',
};

/**
 * One watch stream: what it has sent (by rule identity), so that every change of the model becomes
 * the exact ADD / REMOVE / REPLACE ops that take the client from its set to the new one. Before SYNCED
 * only ADDs may be sent, so changes made then are folded into the sync.
 */
class WatchSession {
  private sent = new Map<string, RoutingRule>();
  private synced = false;

  constructor(
    private readonly call: ServerWritableStream<
      WorkloadRoutingRulesRequestMessage,
      WorkloadRoutingRuleOpMessage
    >,
    private readonly model: RouteserverModel,
    private readonly filter: RoutingRuleFilter,
  ) {}

  private current(): Map<string, RoutingRule> {
    return new Map(filterRoutingRules(this.model.rules(), this.filter).map((r) => [ruleIdentity(r), r]));
  }

  private send(op: WatchOpName, rule?: RoutingRule): void {
    this.call.write({ op, route: rule ? toMessage(rule) : null });
  }

  /** Sends the initial ADDs. */
  begin(): void {
    this.sent = this.current();
    for (const rule of this.sent.values()) this.send('ADD', rule);
  }

  /** Sends what was added meanwhile, SYNCED, then what was removed or replaced meanwhile. */
  sync(): void {
    const next = this.current();
    const later: Array<[WatchOpName, RoutingRule]> = [];
    for (const [identity, rule] of next) {
      const before = this.sent.get(identity);
      if (!before) this.send('ADD', rule);
      else if (before.destinationSandbox.name !== rule.destinationSandbox.name) later.push(['REPLACE', rule]);
    }
    for (const [identity, rule] of this.sent) if (!next.has(identity)) later.push(['REMOVE', rule]);
    this.send('SYNCED');
    for (const [op, rule] of later) this.send(op, rule);
    this.sent = next;
    this.synced = true;
  }

  /** After a model change: the difference, as ops (nothing before SYNCED; `sync` covers it). */
  update(): void {
    if (!this.synced) return;
    const next = this.current();
    for (const [identity, rule] of next) {
      const before = this.sent.get(identity);
      if (!before) this.send('ADD', rule);
      else if (before.destinationSandbox.name !== rule.destinationSandbox.name) this.send('REPLACE', rule);
    }
    for (const [identity, rule] of this.sent) if (!next.has(identity)) this.send('REMOVE', rule);
    this.sent = next;
  }
}

/** Starts the gRPC server on `host:port` (port 0: any free one). */
export async function startRoutesGrpcServer(
  model: RouteserverModel,
  options: { host: string; port: number; closing: AbortSignal },
): Promise<RoutesGrpcServer> {
  const server = new Server();
  const counters: GrpcCounters = { getWorkloadRoutingRules: 0, watchWorkloadRoutingRules: 0 };
  const sessions = new Set<WatchSession>();
  const unsubscribe = model.onRulesChanged(() => {
    for (const session of sessions) session.update();
  });
  const injectedDelay = async () => {
    const { delayMs } = model.getBehaviour();
    if (delayMs > 0) await delay(delayMs, undefined, { signal: options.closing }).catch(() => {});
  };

  server.addService(routesServiceDefinition(), {
    GetWorkloadRoutingRules: async (
      call: ServerUnaryCall<WorkloadRoutingRulesRequestMessage, GetWorkloadRoutingRulesResponseMessage>,
      callback: sendUnaryData<GetWorkloadRoutingRulesResponseMessage>,
    ) => {
      counters.getWorkloadRoutingRules++;
      if (model.getBehaviour().grpc === 'unimplemented') return callback(UNIMPLEMENTED);
      await injectedDelay();
      const rules = filterRoutingRules(model.rules(), filterOf(call.request));
      callback(null, { routingRules: rules.map(toMessage) });
    },
    WatchWorkloadRoutingRules: async (
      call: ServerWritableStream<WorkloadRoutingRulesRequestMessage, WorkloadRoutingRuleOpMessage>,
    ) => {
      counters.watchWorkloadRoutingRules++;
      if (model.getBehaviour().grpc === 'unimplemented') {
        call.emit('error', UNIMPLEMENTED);
        return;
      }
      const session = new WatchSession(call, model, filterOf(call.request));
      const end = () => sessions.delete(session);
      call.on('cancelled', end);
      call.on('close', end);
      call.on('error', end);
      sessions.add(session);
      session.begin();
      await injectedDelay();
      if (call.cancelled || options.closing.aborted) return;
      session.sync();
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `${options.host}:${port}`,
    counters,
    activeWatches: () => sessions.size,
    close: () => {
      unsubscribe();
      sessions.clear();
      server.forceShutdown();
    },
  };
}
