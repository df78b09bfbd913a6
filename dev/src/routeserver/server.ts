/**
 * The routeserver stand-in: Signadot's HTTP `GET /api/v1/workloads/routing-rules` and gRPC
 * `routes.Routes` (Get and Watch) from one model, plus an admin API to change the state and inject
 * faults. A dev tool for local runs and tests only.
 */
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { adminRequestProblem } from './admin-guard';
import { type GrpcCounters, type RoutesGrpcServer, startRoutesGrpcServer } from './grpc';
import {
  type Behaviour,
  filterRoutingRules,
  type InitialState,
  type PutOutcome,
  type RouteGroupSpec,
  RouteserverModel,
  RoutingKeyConflictError,
  type RoutingRuleFilter,
  type SandboxSpec,
} from './model';
import {
  behaviourBodySchema,
  describeSchemaErrors,
  nameParamsSchema,
  routeGroupBodySchema,
  sandboxBodySchema,
  strictAjvOptions,
} from './validation';

/** Options of {@link createRouteserverStandIn}. */
export interface RouteserverStandInOptions {
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; default 0 (any free port). */
  port?: number;
  /** Port of the gRPC API (0: any free port), or `null` for none; default 0. */
  grpcPort?: number | null;
  /** `true` for fastify's pino logger, or a pino-compatible logger; default off. */
  logger?: boolean | FastifyBaseLogger;
  /** Sandboxes and route groups to start with. */
  initialState?: InitialState;
}

/** A running stand-in. */
export interface RouteserverStandIn {
  /** Base URL, e.g. `http://127.0.0.1:12345`. */
  url: string;
  /** gRPC `host:port`, or undefined when gRPC is off. */
  grpcAddress: string | undefined;
  /** Stops listening (gRPC streams end at once); pending delayed responses are answered at once. */
  close(): Promise<void>;
  /** The fastify app, e.g. for `inject` in tests. */
  app: FastifyInstance;
}

/** Path of the real routeserver's HTTP endpoint. */
export const ROUTING_RULES_PATH = '/api/v1/workloads/routing-rules';

const FILTER_NAMES = [
  'baselineKind',
  'baselineNamespace',
  'baselineName',
  'routingKey',
  'destinationSandboxName',
] as const satisfies ReadonlyArray<keyof RoutingRuleFilter>;

type Query = Record<string, string | string[] | undefined>;

/** Answers like grpc-gateway does for an RPC error: `{code, message, details}` (gRPC status codes). */
function grpcError(reply: FastifyReply, httpStatus: number, code: number, message: string): FastifyReply {
  return reply.code(httpStatus).send({ code, message, details: [] });
}

function conflict(reply: FastifyReply, error: unknown): FastifyReply {
  if (!(error instanceof RoutingKeyConflictError)) throw error;
  return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: error.message });
}

/** Builds the stand-in and starts listening. */
export async function createRouteserverStandIn(
  options: RouteserverStandInOptions = {},
): Promise<RouteserverStandIn> {
  const logging =
    typeof options.logger === 'object'
      ? { loggerInstance: options.logger }
      : { logger: options.logger ?? false };
  const app: FastifyInstance = Fastify({
    ...logging,
    ajv: { customOptions: strictAjvOptions },
    schemaErrorFormatter: (errors, dataVar) => new Error(describeSchemaErrors(errors, dataVar)),
  });
  const model = new RouteserverModel();
  if (options.initialState) model.load(options.initialState);
  let routingRuleRequests = 0;
  // Aborted on close so that a long injected delay does not hold the server open.
  const closing = new AbortController();
  const host = options.host ?? '127.0.0.1';
  // gRPC first: once the HTTP port answers (what the stack's readiness probe asks), both are up.
  const grpc: RoutesGrpcServer | undefined =
    options.grpcPort === null
      ? undefined
      : await startRoutesGrpcServer(model, { host, port: options.grpcPort ?? 0, closing: closing.signal });
  const noGrpcCalls: GrpcCounters = { getWorkloadRoutingRules: 0, watchWorkloadRoutingRules: 0 };
  app.addHook('preClose', (done) => {
    closing.abort();
    done();
  });
  // After HTTP has stopped: a client whose stream breaks finds neither API, as when a server goes down.
  app.addHook('onClose', (_app, done) => {
    grpc?.close();
    done();
  });

  // The admin API is for this machine's scripts and tests only (see admin-guard.ts). Judged by the
  // matched route, not the raw URL: the router decodes `/%61dmin/reset` to the admin route.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.routeOptions.url?.startsWith('/admin/')) return;
    const problem = adminRequestProblem(request);
    if (!problem) return;
    const [status, message] = problem;
    return reply
      .code(status)
      .send({ statusCode: status, error: status === 403 ? 'Forbidden' : 'Unsupported Media Type', message });
  });

  app.get<{ Querystring: Query }>(ROUTING_RULES_PATH, async (request, reply) => {
    routingRuleRequests++;
    const behaviour = model.getBehaviour();
    if (behaviour.delayMs > 0) {
      await delay(behaviour.delayMs, undefined, { signal: closing.signal }).catch(() => {});
      // This keep-alive connection would otherwise outlive close(), which only drops idle ones.
      if (closing.signal.aborted) reply.header('connection', 'close');
    }
    if (behaviour.respondWith === 'http-500') {
      return grpcError(reply, 500, 13, 'routeserver stand-in: injected failure (respondWith=http-500)');
    }
    if (behaviour.respondWith === 'malformed-json') {
      return reply.type('application/json').send('{"routingRules":[{"routingKey":');
    }
    const filter: RoutingRuleFilter = {};
    for (const name of FILTER_NAMES) {
      const value = request.query[name];
      // grpc-gateway rejects a repeated value for a singular field; other parameters are ignored.
      if (Array.isArray(value)) return grpcError(reply, 400, 3, `too many values for field "${name}"`);
      filter[name] = value;
    }
    const rules = filterRoutingRules(model.rules(), filter);
    // The real server (Go, omitempty) drops an empty list entirely.
    if (rules.length === 0 && behaviour.emptyRoutingRules === 'omit') return {};
    return { routingRules: rules };
  });

  const named = { params: nameParamsSchema };
  /** `PUT` (201 created, 200 replaced, 409 key taken) and `DELETE` of one kind of key owner. */
  function adminRoutes<Spec>(owners: {
    path: string;
    noun: string;
    bodySchema: object;
    put(name: string, spec: Spec): PutOutcome;
    remove(name: string): boolean;
    current(name: string): Spec | undefined;
  }): void {
    app.put<{ Params: { name: string } }>(
      `/admin/${owners.path}/:name`,
      { schema: { ...named, body: owners.bodySchema } },
      async (request, reply) => {
        const { name } = request.params;
        try {
          // The body schema has checked it is a Spec.
          const outcome = owners.put(name, request.body as Spec);
          return reply.code(outcome === 'created' ? 201 : 200).send({ name, ...owners.current(name) });
        } catch (error) {
          return conflict(reply, error);
        }
      },
    );
    app.delete<{ Params: { name: string } }>(
      `/admin/${owners.path}/:name`,
      { schema: named },
      async (request, reply) =>
        owners.remove(request.params.name)
          ? reply.code(204).send()
          : notFound(reply, owners.noun, request.params.name),
    );
  }
  adminRoutes<SandboxSpec>({
    path: 'sandboxes',
    noun: 'sandbox',
    bodySchema: sandboxBodySchema,
    put: (name, spec) => model.putSandbox(name, spec),
    remove: (name) => model.deleteSandbox(name),
    current: (name) => model.snapshot().sandboxes[name],
  });
  adminRoutes<RouteGroupSpec>({
    path: 'routegroups',
    noun: 'route group',
    bodySchema: routeGroupBodySchema,
    put: (name, spec) => model.putRouteGroup(name, spec),
    remove: (name) => model.deleteRouteGroup(name),
    current: (name) => model.snapshot().routeGroups[name],
  });

  app.get('/admin/state', async () => model.snapshot());
  app.put<{ Body: Partial<Behaviour> }>(
    '/admin/behaviour',
    { schema: { body: behaviourBodySchema } },
    async (request) => model.setBehaviour(request.body),
  );
  app.get('/admin/requests', async () => ({
    routingRules: routingRuleRequests,
    ...(grpc?.counters ?? noGrpcCalls),
    activeWatches: grpc?.activeWatches() ?? 0,
  }));
  app.delete('/admin/requests', async (_request, reply) => {
    routingRuleRequests = 0;
    if (grpc) Object.assign(grpc.counters, noGrpcCalls);
    return reply.code(204).send();
  });
  app.post('/admin/reset', async (_request, reply) => {
    model.reset();
    return reply.code(204).send();
  });

  try {
    await app.listen({ host, port: options.port ?? 0 });
  } catch (error) {
    grpc?.close();
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostname}:${address.port}`,
    grpcAddress: grpc?.address,
    app,
    close: async () => {
      await app.close();
    },
  };
}

function notFound(reply: FastifyReply, what: string, name: string): FastifyReply {
  return reply
    .code(404)
    .send({ statusCode: 404, error: 'Not Found', message: `${what} "${name}" does not exist` });
}
