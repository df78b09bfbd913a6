import { randomUUID } from 'node:crypto';
import { type ServerResponse, STATUS_CODES } from 'node:http';
import { extractRoutingKey, isValidRoutingKey } from '@sandbox-routing/core';
import type { PipelineEvent } from '@sandbox-routing/sample';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { payloadFromTemplate } from '../payload';
import { buildEvents, UsageError } from '../publish';
import {
  bearerToken,
  type ConsoleAccess,
  cookieValue,
  hostnameOfHostHeader,
  hostnameOfPageUrl,
  isServedHost,
  SESSION_COOKIE,
  sessionValue,
  tokensMatch,
} from './access';
import type { ConsoleOwner, OwnerDirectory } from './owners';
import {
  CONSOLE_CSS,
  CONSOLE_SCRIPT_PATH,
  consoleHtml,
  FAVICON_PNG,
  LOGIN_PATH,
  loadConsoleScript,
  loginHtml,
} from './page';
import type { WireOwnersUpdate, WireRowsUpdate, WireSnapshot } from './page/wire';
import type { ConsoleDispatcher, SendPath } from './sender';
import type { SentEvent, TrailHub, TrailRow } from './trail-hub';

/** Largest request body: a payload template of up to 32 KiB plus the form's other fields. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Most events one send may ask for. */
export const MAX_EVENTS_PER_SEND = 100;
/** How much of each payload a trail row shows. */
const PAYLOAD_PREVIEW_CHARS = 120;
/** Most page streams at once (each holds a connection). */
export const MAX_STREAMS = 32;

/** Body of `POST /api/send`. */
export interface SendBody {
  /** An owner id from `GET /api/owners` (`baseline`, `key:<routing key>`)… */
  ownerId?: string;
  /** …or a routing key of your own (e.g. one that has no rule yet). */
  routingKey?: string;
  via: SendPath;
  /** Event type, e.g. `order.created`. */
  type: string;
  /** The payload: a JSON object, optionally with `{{seq}}` and `{{id}}` placeholders. */
  payload: string;
  count: number;
}

const sendBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['via', 'type', 'payload', 'count'],
  properties: {
    ownerId: { type: 'string', minLength: 1, maxLength: 300 },
    routingKey: { type: 'string', minLength: 1, maxLength: 64 },
    via: { type: 'string', enum: ['kafka', 'temporal'] },
    type: { type: 'string', minLength: 1, maxLength: 200 },
    payload: { type: 'string', maxLength: 32 * 1024 },
    count: { type: 'integer', minimum: 1, maximum: MAX_EVENTS_PER_SEND },
  },
} as const;

export interface ConsoleServerDeps {
  owners: Pick<OwnerDirectory, 'owners' | 'status' | 'byId' | 'expectedFor' | 'onChange'>;
  hub: Pick<TrailHub, 'noteSent' | 'rows' | 'counters' | 'subscribe'>;
  dispatcher: ConsoleDispatcher;
  /** For `/readyz`: the trail reader has joined its group. */
  ready(): boolean;
  /** Shown on the page. */
  info: { temporalUiUrl: string; namespace: string; sharedQueue: string; resultsTopic: string };
  /** Bind address: requests may name it (besides loopback names and the allowed hosts). */
  host: string;
  /** Token and allowed hosts (see access.ts); default: no token, no extra hosts (loopback use). */
  access?: ConsoleAccess;
  logger?: { warn(fields: object, message: string): void };
}

/** A 4xx answer with a reason. */
class RequestError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** How long a login lasts. */
const SESSION_MAX_AGE_S = 7 * 24 * 3600;
/** Paths that answer anyone: probes. */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);
/** Paths that answer without the token (on a served host): the login page and what it shows. */
const PUBLIC_PATHS = new Set([LOGIN_PATH, '/console.css', '/favicon.ico']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Content-Security-Policy: only the console's own script and style; nothing inline runs. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  // Not no-referrer: under it a browser sends `Origin: null` with the page's own POSTs, which the
  // Origin check must refuse. same-origin gives nothing away to other sites.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
} as const;

/** The routing key a page request carries: Signadot's preview URL / browser extension headers, or `?sd-routing-key=`. */
export function requestedRoutingKey(
  request: FastifyRequest,
): { key: string; source: 'header' | 'query' } | null {
  const fromHeaders = extractRoutingKey(request.headers);
  if (fromHeaders) return { key: fromHeaders.key, source: 'header' };
  const query = (request.query as Record<string, unknown> | undefined)?.['sd-routing-key'];
  if (typeof query === 'string' && isValidRoutingKey(query)) return { key: query, source: 'query' };
  return null;
}

function writeEvent(raw: ServerResponse, event: string, data: unknown): void {
  raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * The console's HTTP server: the page, its script and style, the owner list, sending, and a
 * server-sent event stream of the live trail. Every response is JSON or fixed text; the page renders
 * every value as text.
 */
export async function buildConsoleServer(deps: ConsoleServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
    },
  });
  const script = loadConsoleScript();
  // Open event streams: ended on close, or app.close() would wait for the pages to go away.
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', (done) => {
    for (const raw of streams) raw.end();
    done();
  });

  const access: ConsoleAccess = deps.access ?? { token: null, allowedHosts: [] };
  const session = access.token === null ? null : sessionValue(access.token);
  const served = (hostname: string | null) => hostname !== null && isServedHost(hostname, deps.host, access);
  /** The bearer header's verdict: undefined when there is none. */
  const bearerValid = (request: FastifyRequest): boolean | undefined => {
    const given = bearerToken(request.headers.authorization);
    if (given === undefined) return undefined;
    return access.token !== null && tokensMatch(given, access.token);
  };

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    const path = request.url.split('?')[0] ?? '';
    if (OPEN_PATHS.has(path)) return;
    // A request for a host name the console does not serve is a DNS-rebinding attempt from some web page.
    if (!served(hostnameOfHostHeader(request.headers.host))) {
      throw new RequestError(
        403,
        `host ${JSON.stringify(request.headers.host ?? '')} is not served: the console answers loopback names, its bind address and CONSOLE_ALLOWED_HOSTS only`,
      );
    }
    const bearer = bearerValid(request);
    if (bearer === false) {
      reply.header('www-authenticate', 'Bearer realm="console", error="invalid_token"');
      throw new RequestError(401, 'the bearer token is not the console token');
    }
    // A state-changing request comes from a page of a served host, or from a script (the bearer header).
    if (!SAFE_METHODS.has(request.method) && bearer !== true) {
      const origin = request.headers.origin;
      const page = origin !== undefined && origin !== 'null' ? origin : request.headers.referer;
      if (!served(hostnameOfPageUrl(page))) {
        throw new RequestError(
          403,
          page === undefined
            ? `${request.method} needs an Origin or Referer header of a page the console serves (scripts: send Authorization: Bearer <token>)`
            : `cross-site request refused: ${JSON.stringify(origin ?? page)} is not a page the console serves`,
        );
      }
    }
    if (session === null || bearer === true || PUBLIC_PATHS.has(path)) return;
    const cookie = cookieValue(request.headers.cookie, SESSION_COOKIE);
    if (cookie !== undefined && tokensMatch(cookie, session)) return;
    if (request.method === 'GET' && !path.startsWith('/api/')) {
      return reply.redirect(`${LOGIN_PATH}?next=${encodeURIComponent(request.url)}`, 303);
    }
    reply.header('www-authenticate', 'Bearer realm="console"');
    throw new RequestError(
      401,
      'the console asks for its token: log in at /login, or send Authorization: Bearer <token>',
    );
  });

  // The login form: a urlencoded body, parsed in this scope only (the API takes JSON alone).
  await app.register(async (login) => {
    login.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 8 * 1024 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    const loginPage = (reply: FastifyReply, next: string, failed: boolean) =>
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-security-policy', LOGIN_CSP)
        .send(loginHtml({ next, failed }));
    login.get<{ Querystring: { next?: string } }>(LOGIN_PATH, async (request, reply) => {
      const next = safeNext(request.query.next);
      if (session === null) return reply.redirect(next, 303);
      return loginPage(reply, next, false);
    });
    login.post<{ Body: { token?: string; next?: string } }>(LOGIN_PATH, async (request, reply) => {
      const next = safeNext(request.body?.next);
      if (access.token === null || session === null) return reply.redirect(next, 303);
      if (!tokensMatch(request.body?.token ?? '', access.token)) {
        return loginPage(reply.code(401), next, true);
      }
      const origin = request.headers.origin;
      const https =
        (origin?.startsWith('https:') ?? false) ||
        /^https\b/i.test(String(request.headers['x-forwarded-proto'] ?? ''));
      reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=${session}; Path=/; Max-Age=${SESSION_MAX_AGE_S}; HttpOnly; SameSite=Strict${https ? '; Secure' : ''}`,
      );
      return reply.redirect(next, 303);
    });
  });

  app.setErrorHandler((error: FastifyError | RequestError, _request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    let message = error.message;
    if (error instanceof RequestError) message = error.message;
    else if ('code' in error && error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      message = `request body is larger than ${MAX_BODY_BYTES} bytes`;
    else if ('code' in error && error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      message = 'send the request body as application/json';
    else if ('code' in error && String(error.code).includes('JSON'))
      message = `request body is not valid JSON: ${error.message}`;
    else if (status >= 500) {
      deps.logger?.warn({ err: error.message }, 'console request failed');
      message = status === 502 ? error.message : 'internal error';
    }
    return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message });
  });

  app.get('/', async (request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(consoleHtml(requestedRoutingKey(request))),
  );
  app.get(CONSOLE_SCRIPT_PATH, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(script),
  );
  app.get('/console.css', async (_request, reply) => reply.type('text/css; charset=utf-8').send(CONSOLE_CSS));
  app.get('/favicon.ico', async (_request, reply) =>
    reply.type('image/png').header('cache-control', 'public, max-age=86400').send(FAVICON_PNG),
  );
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks = { trailReader: deps.ready(), routeserver: deps.owners.status().synced };
    return reply.code(Object.values(checks).every(Boolean) ? 200 : 503).send({ checks });
  });

  app.get('/api/owners', async (request) => ({
    owners: deps.owners.owners(),
    status: deps.owners.status(),
    requested: requestedRoutingKey(request),
  }));

  app.get('/api/trail', async () => ({ rows: deps.hub.rows(), counters: deps.hub.counters() }));

  app.post<{ Body: SendBody }>('/api/send', { schema: { body: sendBodySchema } }, async (request) => {
    const body = request.body;
    const target = resolveTarget(body, deps.owners);
    const events = buildConsoleEvents(body);
    const expected = deps.owners.expectedFor(target.routingKey);
    let dispatched: Awaited<ReturnType<ConsoleDispatcher['send']>>;
    const sentAt = new Date().toISOString();
    try {
      dispatched = await deps.dispatcher.send(body.via, events, target.routingKey);
    } catch (error) {
      throw new RequestError(
        502,
        `${body.via === 'kafka' ? 'Kafka' : 'Temporal'} refused the events: ${(error as Error).message}`,
      );
    }
    const payloadOf = new Map(events.map((e) => [e.id, JSON.stringify(e.payload)]));
    const sent: SentEvent[] = dispatched.map((d) => ({
      eventId: d.eventId,
      workflowId: d.workflowId,
      via: body.via,
      routingKey: target.routingKey,
      ownerLabel: target.label,
      expected,
      sentAt,
      published: d.placement ? { topic: deps.dispatcher.topic, ...d.placement } : null,
      payloadPreview: (payloadOf.get(d.eventId) ?? '').slice(0, PAYLOAD_PREVIEW_CHARS),
    }));
    deps.hub.noteSent(sent);
    return { via: body.via, owner: target.label, routingKey: target.routingKey, expected, events: sent };
  });

  app.get('/api/stream', (request, reply) => {
    if (streams.size >= MAX_STREAMS) {
      return reply
        .code(503)
        .send({ statusCode: 503, error: 'Server Error', message: 'too many open console pages' });
    }
    reply.hijack();
    const raw = reply.raw;
    streams.add(raw);
    raw.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    writeEvent(raw, 'snapshot', {
      owners: deps.owners.owners(),
      status: deps.owners.status(),
      rows: deps.hub.rows(),
      counters: deps.hub.counters(),
      info: deps.info,
    } satisfies WireSnapshot);
    // Rows are coalesced per 100 ms: a burst of records becomes one message.
    const pending = new Map<string, TrailRow>();
    let flush: NodeJS.Timeout | undefined;
    const unsubscribeRows = deps.hub.subscribe((rows) => {
      for (const row of rows) pending.set(row.workflowId, row);
      flush ??= setTimeout(() => {
        flush = undefined;
        writeEvent(raw, 'rows', {
          rows: [...pending.values()],
          counters: deps.hub.counters(),
        } satisfies WireRowsUpdate);
        pending.clear();
      }, 100);
    });
    const unsubscribeOwners = deps.owners.onChange((owners, status) =>
      writeEvent(raw, 'owners', { owners, status } satisfies WireOwnersUpdate),
    );
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
    request.raw.once('close', () => {
      streams.delete(raw);
      clearTimeout(flush);
      clearInterval(heartbeat);
      unsubscribeRows();
      unsubscribeOwners();
    });
  });

  return app;
}

/** The login page may post its form back to itself, and nothing else. */
const LOGIN_CSP = SECURITY_HEADERS['content-security-policy'].replace(
  "form-action 'none'",
  "form-action 'self'",
);

/** Where to go after logging in: a path of this console only (never `//other.host`). */
function safeNext(next: string | undefined): string {
  const ok = next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  return ok && next !== undefined && !/[\u0000-\u001f\u007f]/.test(next) ? next : '/';
}

/** The owner (or own routing key) a send names. */
function resolveTarget(
  body: SendBody,
  owners: ConsoleServerDeps['owners'],
): { label: string; routingKey: string | null } {
  if ((body.ownerId === undefined) === (body.routingKey === undefined)) {
    throw new RequestError(400, 'name either ownerId (from /api/owners) or routingKey, not both or neither');
  }
  if (body.routingKey !== undefined) {
    if (!isValidRoutingKey(body.routingKey)) {
      throw new RequestError(
        400,
        'routingKey must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit',
      );
    }
    return { label: `key ${body.routingKey}`, routingKey: body.routingKey };
  }
  const owner: ConsoleOwner | undefined = owners.byId(body.ownerId as string);
  if (!owner) {
    throw new RequestError(
      404,
      `unknown owner ${JSON.stringify(body.ownerId)}: the routeserver lists ${owners
        .owners()
        .map((o) => o.id)
        .join(', ')}`,
    );
  }
  return { label: owner.label, routingKey: owner.routingKey };
}

/** Events with ids `console-<random>-<seq>`, each validated against the event schema first. */
function buildConsoleEvents(body: SendBody): PipelineEvent[] {
  let payload: ReturnType<typeof payloadFromTemplate>;
  try {
    payload = payloadFromTemplate(body.payload);
  } catch (error) {
    throw new RequestError(400, `payload: ${(error as Error).message}`);
  }
  try {
    return buildEvents({
      count: body.count,
      type: body.type,
      idPrefix: `console-${randomUUID().slice(0, 8)}`,
      payload,
      payloadOption: 'payload',
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new RequestError(400, error.message.replace(/^option '-*([^']+)' is invalid: /, '$1: '));
  }
}
