import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PipelineEvent } from '@sandbox-routing/sample';
import type { FastifyInstance } from 'fastify';
import { type ConsoleOwner, ownersFrom } from '../owners';
import type { ConsoleDispatcher, SendPath } from '../sender';
import { buildConsoleServer, type ConsoleServerDeps, MAX_BODY_BYTES } from '../server';
import { TrailHub } from '../trail-hub';

const WORKER = { kind: 'Deployment', namespace: 'local', name: 'worker' };
const INGRESS = { kind: 'Deployment', namespace: 'local', name: 'ingress' };
const KEY = 'ltj9s8scupb86';

const owners: ConsoleOwner[] = ownersFrom(
  [{ routingKey: KEY, baseline: WORKER, destinationSandbox: { name: 'pr-101' } }],
  [{ routingKey: KEY, baseline: INGRESS, destinationSandbox: { name: 'pr-101' } }],
  undefined,
);

/** The server with the given owners, trail and sending, always ready, on loopback. */
function testServer(
  deps: Pick<ConsoleServerDeps, 'owners' | 'hub' | 'dispatcher'>,
): Promise<FastifyInstance> {
  return buildConsoleServer({
    ...deps,
    ready: () => true,
    info: {
      temporalUiUrl: 'http://127.0.0.1:8233',
      namespace: 'default',
      sharedQueue: 'orders',
      resultsTopic: 'r',
    },
    host: '127.0.0.1',
  });
}

/** The server on its own: owners, trail and sending are in-memory fakes. */
describe('console server API', () => {
  let app: FastifyInstance;
  const sends: { path: SendPath; events: readonly PipelineEvent[]; routingKey: string | null }[] = [];
  let failNextSend = false;

  before(async () => {
    const dispatcher: ConsoleDispatcher = {
      topic: 'events',
      async send(path, events, routingKey) {
        if (failNextSend) {
          failNextSend = false;
          throw new Error('broker unreachable');
        }
        sends.push({ path, events, routingKey });
        return events.map((e, i) => ({
          eventId: e.id,
          workflowId: `evt-${e.id}`,
          placement: path === 'kafka' ? { partition: 0, offset: String(i) } : null,
        }));
      },
      close: async () => undefined,
    };
    const byId = (id: string) => owners.find((o) => o.id === id);
    app = await testServer({
      owners: {
        owners: () => owners,
        status: () => ({ synced: true, error: null, updatedAt: null }),
        byId,
        expectedFor: (key) => ({
          worker: owners.find((o) => o.routingKey === key)?.workerOwner ?? 'baseline',
          ingress: owners.find((o) => o.routingKey === key)?.ingressOwner ?? 'baseline',
        }),
        onChange: () => () => undefined,
      },
      hub: new TrailHub({
        expectedFor: () => ({ worker: 'baseline', ingress: 'baseline' }),
        temporalUrl: () => '',
      }),
      dispatcher,
    });
  });

  after(() => app.close());

  const send = (body: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/api/send',
      headers: {
        'content-type': 'application/json',
        host: '127.0.0.1:8090',
        origin: 'http://127.0.0.1:8090',
        ...headers,
      },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const valid = {
    ownerId: `key:${KEY}`,
    via: 'kafka',
    type: 'order.created',
    payload: '{"n":{{seq}}}',
    count: 2,
  };

  it('sends to a listed owner with its routing key and answers with the events and their expected owner', async () => {
    const response = await send(valid);
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.owner, 'pr-101');
    assert.deepEqual(body.expected, { worker: 'pr-101', ingress: 'pr-101' });
    assert.equal(body.events.length, 2);
    assert.equal(body.events[0].published.topic, 'events');
    const last = sends.at(-1);
    assert.equal(last?.routingKey, KEY);
    assert.deepEqual(
      last?.events.map((e) => e.payload),
      [{ n: 1 }, { n: 2 }],
    );
  });

  const problems: [string, unknown, number, RegExp][] = [
    ['bad JSON', '{"via": "kafka",', 400, /not valid JSON/],
    [
      'an unknown owner',
      { ...valid, ownerId: 'key:nosuchkey' },
      404,
      /unknown owner "key:nosuchkey".*baseline, key:ltj9s8scupb86/,
    ],
    ['neither owner nor key', { ...valid, ownerId: undefined }, 400, /either ownerId .* or routingKey/],
    [
      'an invalid routing key',
      { ...valid, ownerId: undefined, routingKey: 'bad key!' },
      400,
      /routingKey must be/,
    ],
    ['a payload that is not JSON', { ...valid, payload: '{"n": }' }, 400, /^payload: .*not valid JSON/],
    [
      'a payload that is not an object',
      { ...valid, payload: '[1]' },
      400,
      /payload: .*expected a JSON object/,
    ],
    [
      'an unknown placeholder',
      { ...valid, payload: '{"n": "{{nope}}"}' },
      400,
      /unknown placeholder \{\{nope\}\}/,
    ],
    [
      'an event type the schema refuses',
      { ...valid, type: 'Not A Type' },
      400,
      // In words, not the schema's regular expression.
      /^type: "Not A Type" is not an event type: use lower-case words .*e\.g\. order\.created$/,
    ],
    ['too many events', { ...valid, count: 101 }, 400, /body\/count must be <= 100/],
    ['an unknown field', { ...valid, extra: 1 }, 400, /must NOT have additional properties/],
    [
      'a wrong path',
      { ...valid, via: 'carrier-pigeon' },
      400,
      /body\/via must be equal to one of the allowed values/,
    ],
  ];
  for (const [what, body, status, reason] of problems) {
    it(`refuses ${what} with ${status} and a reason, sending nothing`, async () => {
      const before = sends.length;
      const response = await send(body);
      assert.equal(response.statusCode, status, response.body);
      assert.match(response.json().message, reason);
      assert.equal(sends.length, before);
    });
  }

  it('refuses an oversized body with 413', async () => {
    const response = await send({ ...valid, payload: `{"pad":"${'x'.repeat(MAX_BODY_BYTES)}"}` });
    assert.equal(response.statusCode, 413);
    assert.match(response.json().message, /larger than 65536 bytes/);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const response = await send('via=kafka', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(response.statusCode, 415);
    assert.match(response.json().message, /application\/json/);
  });

  it('answers 502 with the reason when Kafka refuses the events', async () => {
    failNextSend = true;
    const response = await send(valid);
    assert.equal(response.statusCode, 502);
    assert.match(response.json().message, /Kafka refused the events: broker unreachable/);
  });

  it('bound to loopback, refuses requests for other host names (DNS rebinding)', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/owners',
      headers: { host: 'evil.example:8090' },
    });
    assert.equal(response.statusCode, 403);
    assert.match(response.json().message, /not served/);
    for (const host of ['localhost:8090', '127.0.0.1:8090', '[::1]:8090']) {
      const ok = await app.inject({ method: 'GET', url: '/api/owners', headers: { host } });
      assert.equal(ok.statusCode, 200, host);
    }
  });

  it('serves the page with a strict CSP and the routing key the request carries', async () => {
    const page = await app.inject({
      method: 'GET',
      url: '/',
      headers: { host: 'localhost:8090', baggage: `user=alice,sd-routing-key=${KEY}` },
    });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-security-policy'] as string, /script-src 'self'/);
    assert.doesNotMatch(page.headers['content-security-policy'] as string, /unsafe-inline/);
    assert.ok(page.body.includes(`{"requested":{"key":"${KEY}","source":"header"}}`));
    const query = await app.inject({
      method: 'GET',
      url: `/?sd-routing-key=${KEY}`,
      headers: { host: 'localhost' },
    });
    assert.ok(query.body.includes(`"source":"query"`));
    const bogus = await app.inject({
      method: 'GET',
      url: '/?sd-routing-key=%3Cscript%3E',
      headers: { host: 'localhost' },
    });
    assert.ok(bogus.body.includes('{"requested":null}'), 'an invalid key is ignored');
    const script = await app.inject({ method: 'GET', url: '/console.js', headers: { host: 'localhost' } });
    assert.equal(script.statusCode, 200);
    assert.match(script.headers['content-type'] as string, /javascript/);
    assert.doesNotMatch(
      script.body,
      /innerHTML|insertAdjacentHTML|document\.write/,
      'the page never renders HTML',
    );
  });
});

describe('console event stream', () => {
  it('sends a snapshot, then rows as they change, and lets the server close while a page is open', async () => {
    const hub = new TrailHub({
      expectedFor: () => ({ worker: 'baseline', ingress: 'baseline' }),
      temporalUrl: () => '',
    });
    const app = await testServer({
      owners: {
        owners: () => owners,
        status: () => ({ synced: true, error: null, updatedAt: null }),
        byId: () => undefined,
        expectedFor: () => ({ worker: 'baseline', ingress: 'baseline' }),
        onChange: () => () => undefined,
      },
      hub,
      dispatcher: { topic: 'events', send: async () => [], close: async () => undefined },
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const response = await fetch(`${url}/api/stream`);
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
        text += Buffer.from(value).toString('utf8');
      }
    };
    await readUntil(/event: snapshot\ndata: .*"owners":\[/);
    hub.noteSent([
      {
        eventId: 'e-1',
        workflowId: 'evt-e-1',
        via: 'kafka',
        routingKey: null,
        ownerLabel: 'baseline',
        expected: { worker: 'baseline', ingress: 'baseline' },
        sentAt: new Date().toISOString(),
        published: { topic: 'events', partition: 0, offset: '7' },
        payloadPreview: '{}',
      },
    ]);
    await readUntil(/event: rows\ndata: .*"workflowId":"evt-e-1".*"status":"sent"/);
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      app.close().then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), 5000);
      }),
    ]);
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
    assert.ok(closed, 'close does not wait for the open page');
  });
});

describe('owner list', () => {
  it('from routing rules alone (Signadot routeserver): one entry per key, named by the sandbox it routes to', () => {
    assert.deepEqual(
      owners.map((o) => [o.id, o.label, o.kind, o.workerOwner, o.ingressOwner]),
      [
        ['baseline', 'baseline', 'baseline', 'baseline', 'baseline'],
        [`key:${KEY}`, 'pr-101', 'key', 'pr-101', 'pr-101'],
      ],
    );
  });

  it('with the stand-in extras: sandboxes and RouteGroups by name; a key that forks only the worker leaves the ingress on the baseline', () => {
    const list = ownersFrom(
      [
        { routingKey: 'k1', baseline: WORKER, destinationSandbox: { name: 'pr-1' } },
        { routingKey: 'g1', baseline: WORKER, destinationSandbox: { name: 'pr-1' } },
      ],
      [],
      {
        sandboxes: { 'pr-1': { routingKey: 'k1' } },
        routeGroups: { team: { routingKey: 'g1', sandboxes: ['pr-1', 'pr-2'] } },
      },
    );
    assert.deepEqual(
      list.map((o) => [o.label, o.kind, o.routingKey, o.workerOwner, o.ingressOwner, o.members]),
      [
        ['baseline', 'baseline', null, 'baseline', 'baseline', []],
        ['pr-1', 'sandbox', 'k1', 'pr-1', 'baseline', []],
        ['team', 'routegroup', 'g1', 'pr-1', 'baseline', ['pr-1', 'pr-2']],
      ],
    );
  });
});

/** Who may use the console: Host, Origin and token, on loopback and on a non-loopback bind. */
describe('console access', () => {
  const TOKEN = 'tok-3f9a1c0e7b2d4a6f';
  const sent: string[] = [];
  const deps = (): Pick<ConsoleServerDeps, 'owners' | 'hub' | 'dispatcher'> => ({
    owners: {
      owners: () => owners,
      status: () => ({ synced: true, error: null, updatedAt: null }),
      byId: (id) => owners.find((o) => o.id === id),
      expectedFor: () => ({ worker: 'baseline', ingress: 'baseline' }),
      onChange: () => () => undefined,
    },
    hub: new TrailHub({
      expectedFor: () => ({ worker: 'baseline', ingress: 'baseline' }),
      temporalUrl: () => '',
    }),
    dispatcher: {
      topic: 'events',
      async send(_path, events) {
        sent.push(...events.map((e) => e.id));
        return events.map((e) => ({ eventId: e.id, workflowId: `evt-${e.id}`, placement: null }));
      },
      close: async () => undefined,
    },
  });
  const info = { temporalUiUrl: 'http://x', namespace: 'default', sharedQueue: 'orders', resultsTopic: 'r' };
  /** Bound to all interfaces in a pod, with the token and Signadot's preview hosts. */
  let pod: FastifyInstance;
  /** Bound to loopback without a token (the local default). */
  let local: FastifyInstance;
  const sendBody = JSON.stringify({
    ownerId: 'baseline',
    via: 'kafka',
    type: 'order.created',
    payload: '{}',
    count: 1,
  });
  const post = (app: FastifyInstance, headers: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url: '/api/send',
      headers: { 'content-type': 'application/json', ...headers },
      payload: sendBody,
    });
  const PREVIEW = 'console--worker-orders-v2.preview.signadot.com';

  before(async () => {
    pod = await buildConsoleServer({
      ...deps(),
      ready: () => true,
      info,
      host: '0.0.0.0',
      access: { token: TOKEN, allowedHosts: ['*.preview.signadot.com', 'console.sandbox-routing.svc'] },
    });
    local = await buildConsoleServer({ ...deps(), ready: () => true, info, host: '127.0.0.1' });
  });
  after(async () => {
    await pod.close();
    await local.close();
  });

  it('checks Host on every bind: loopback names, the bind address and CONSOLE_ALLOWED_HOSTS (wildcards)', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const host of [
      `${PREVIEW}`,
      `${PREVIEW}:443`,
      'console.sandbox-routing.svc:8090',
      'localhost:8090',
    ]) {
      const ok = await pod.inject({ url: '/api/owners', headers: { host, ...auth } });
      assert.equal(ok.statusCode, 200, `${host}: ${ok.body}`);
    }
    for (const host of ['evil.example', 'preview.signadot.com', `${PREVIEW}.evil.example`, '10.0.0.7:8090']) {
      const refused = await pod.inject({ url: '/api/owners', headers: { host, ...auth } });
      assert.equal(refused.statusCode, 403, `${host}: ${refused.body}`);
      assert.match(refused.json().message, /not served/);
    }
    const specific = await buildConsoleServer({
      ...deps(),
      ready: () => true,
      info,
      host: '10.0.0.7',
      access: { token: TOKEN, allowedHosts: [] },
    });
    assert.equal(
      (await specific.inject({ url: '/api/owners', headers: { host: '10.0.0.7:8090', ...auth } })).statusCode,
      200,
    );
    await specific.close();
  });

  it('answers probes whatever the Host (kubelet uses the pod IP) and without the token', async () => {
    for (const url of ['/healthz', '/readyz']) {
      const probe = await pod.inject({ url, headers: { host: '10.1.2.3:8090' } });
      assert.equal(probe.statusCode, 200, `${url}: ${probe.body}`);
    }
  });

  it('with a token, refuses the API without it (401, WWW-Authenticate) and with a wrong one; the bearer header opens it', async () => {
    const host = { host: PREVIEW };
    for (const url of ['/api/owners', '/api/trail', '/api/stream']) {
      const refused = await pod.inject({ url, headers: host });
      assert.equal(refused.statusCode, 401, `${url}: ${refused.body}`);
      assert.match(refused.headers['www-authenticate'] as string, /^Bearer/);
      assert.match(refused.json().message, /log in at \/login, or send Authorization: Bearer/);
    }
    const wrong = await pod.inject({
      url: '/api/owners',
      headers: { ...host, authorization: `Bearer ${TOKEN}x` },
    });
    assert.equal(wrong.statusCode, 401);
    const cookieIsNotToken = await pod.inject({
      url: '/api/owners',
      headers: { ...host, cookie: `sandbox_routing_console=${TOKEN}` },
    });
    assert.equal(cookieIsNotToken.statusCode, 401, 'the cookie holds a session value, not the token');
    const before = sent.length;
    const script = await post(pod, { ...host, authorization: `Bearer ${TOKEN}` });
    assert.equal(
      script.statusCode,
      200,
      `a script sends with the bearer header and no Origin: ${script.body}`,
    );
    assert.equal(sent.length, before + 1);
    const noAuth = await post(pod, { ...host, origin: `https://${PREVIEW}` });
    assert.equal(noAuth.statusCode, 401);
    assert.equal(sent.length, before + 1, 'nothing was sent without the token');
  });

  it('sends a browser to the login page; the right token sets an HttpOnly SameSite=Strict cookie (Secure over https) that opens the page and the API', async () => {
    const page = await pod.inject({ url: '/?sd-routing-key=abc', headers: { host: PREVIEW } });
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, `/login?next=${encodeURIComponent('/?sd-routing-key=abc')}`);
    const form = await pod.inject({ url: page.headers.location as string, headers: { host: PREVIEW } });
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /<form method="post" action="\/login">/);
    assert.match(form.body, /name="next" value="\/\?sd-routing-key=abc"/);
    assert.match(form.headers['content-security-policy'] as string, /form-action 'self'/);
    const login = (token: string, origin: string, next = '/?sd-routing-key=abc') =>
      pod.inject({
        method: 'POST',
        url: '/login',
        headers: { host: PREVIEW, origin, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ token, next }).toString(),
      });
    const bad = await login('guess', `https://${PREVIEW}`);
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.headers['set-cookie'], undefined);
    assert.match(bad.body, /not the console token/);
    const good = await login(TOKEN, `https://${PREVIEW}`);
    assert.equal(good.statusCode, 303, good.body);
    assert.equal(good.headers.location, '/?sd-routing-key=abc');
    const cookie = String(good.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Secure/);
    assert.ok(!cookie.includes(TOKEN), 'the cookie does not hold the token');
    const session = cookie.split(';')[0] as string;
    const opened = await pod.inject({ url: '/', headers: { host: PREVIEW, cookie: session } });
    assert.equal(opened.statusCode, 200);
    assert.match(opened.body, /<form id="send-form"/);
    const stream = await pod.inject({ url: '/api/owners', headers: { host: PREVIEW, cookie: session } });
    assert.equal(stream.statusCode, 200);
    const viaPortForward = await pod.inject({
      method: 'POST',
      url: '/login',
      headers: {
        host: 'localhost:8090',
        origin: 'http://localhost:8090',
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: `token=${TOKEN}&next=//evil.example/`,
    });
    assert.equal(viaPortForward.statusCode, 303);
    assert.doesNotMatch(String(viaPortForward.headers['set-cookie']), /Secure/, 'plain http: no Secure flag');
    assert.equal(viaPortForward.headers.location, '/', 'never redirects to another site');
    const sentBefore = sent.length;
    const browserSend = await post(pod, { host: PREVIEW, origin: `https://${PREVIEW}`, cookie: session });
    assert.equal(browserSend.statusCode, 200, browserSend.body);
    assert.equal(sent.length, sentBefore + 1);
  });

  it('refuses a cross-site POST (login or send), even with the session cookie, and a POST with no Origin or Referer', async () => {
    const good = await pod.inject({
      method: 'POST',
      url: '/login',
      headers: {
        host: PREVIEW,
        origin: `https://${PREVIEW}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: `token=${TOKEN}`,
    });
    const session = String(good.headers['set-cookie']).split(';')[0] as string;
    const before = sent.length;
    for (const [what, headers] of [
      ['a foreign Origin', { origin: 'https://evil.example' }],
      ['an opaque Origin and no Referer', { origin: 'null' }],
      ['a foreign Referer', { referer: 'https://evil.example/page' }],
      ['neither Origin nor Referer', {}],
    ] as [string, Record<string, string>][]) {
      const response = await post(pod, { host: PREVIEW, cookie: session, ...headers });
      assert.equal(response.statusCode, 403, `${what}: ${response.body}`);
      const loginAttempt = await pod.inject({
        method: 'POST',
        url: '/login',
        headers: { host: PREVIEW, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        payload: `token=${TOKEN}`,
      });
      assert.equal(loginAttempt.statusCode, 403, `login, ${what}`);
      const onLoopback = await post(local, { host: '127.0.0.1:8090', ...headers });
      assert.equal(onLoopback.statusCode, 403, `loopback, ${what}`);
    }
    assert.equal(sent.length, before, 'nothing was sent');
    const sameSiteReferer = await post(pod, {
      host: PREVIEW,
      cookie: session,
      referer: `https://${PREVIEW}/`,
    });
    assert.equal(sameSiteReferer.statusCode, 200, sameSiteReferer.body);
    const formToApi = await pod.inject({
      method: 'POST',
      url: '/api/send',
      headers: {
        host: PREVIEW,
        origin: `https://${PREVIEW}`,
        cookie: session,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: 'via=kafka',
    });
    assert.equal(formToApi.statusCode, 415, 'the API takes JSON only');
  });

  it('on loopback without a token, serves loopback pages without a login (and has no login page)', async () => {
    const page = await local.inject({ url: '/', headers: { host: 'localhost:8090' } });
    assert.equal(page.statusCode, 200);
    const send = await post(local, { host: 'localhost:8090', origin: 'http://localhost:8090' });
    assert.equal(send.statusCode, 200, send.body);
    const login = await local.inject({ url: '/login', headers: { host: 'localhost:8090' } });
    assert.equal(login.statusCode, 303);
    assert.equal(login.headers.location, '/');
  });

  it('answers /favicon.ico with a PNG icon, also before logging in', async () => {
    const icon = await pod.inject({ url: '/favicon.ico', headers: { host: PREVIEW } });
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers['content-type'], 'image/png');
    assert.deepEqual([...icon.rawPayload.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it('on loopback with a token, requires it too', async () => {
    const guarded = await buildConsoleServer({
      ...deps(),
      ready: () => true,
      info,
      host: '127.0.0.1',
      access: { token: TOKEN, allowedHosts: [] },
    });
    assert.equal(
      (await guarded.inject({ url: '/api/owners', headers: { host: 'localhost' } })).statusCode,
      401,
    );
    assert.equal((await guarded.inject({ url: '/', headers: { host: 'localhost' } })).statusCode, 303);
    assert.equal(
      (
        await guarded.inject({
          url: '/api/owners',
          headers: { host: 'localhost', authorization: `Bearer ${TOKEN}` },
        })
      ).statusCode,
      200,
    );
    await guarded.close();
  });
});
