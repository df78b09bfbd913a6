import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PipelineEvent } from '@sandbox-routing/shared';
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
      headers: { 'content-type': 'application/json', host: '127.0.0.1:8090', ...headers },
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
      /^type: .*\/type must match pattern/,
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
    assert.match(response.json().message, /loopback names only/);
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
