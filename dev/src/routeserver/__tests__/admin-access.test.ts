/**
 * The stand-in's admin API changes what every local service routes by, so no web page may reach it:
 * not by DNS rebinding (a Host that is not loopback), not by a cross-site request (an Origin that is
 * not loopback, a form or text POST), not from another machine. Its Signadot-compatible read API
 * answers as the real routeserver does, whoever asks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { createRouteserverStandIn, ROUTING_RULES_PATH, type RouteserverStandIn } from '../server';
import { TWO_SANDBOXES } from './helpers';

describe('routeserver stand-in: admin API access', () => {
  let standIn: RouteserverStandIn;
  const inject = (options: InjectOptions) => standIn.app.inject(options);
  const state = async () => (await inject({ url: '/admin/state', headers: { host: '127.0.0.1' } })).json();

  before(async () => {
    standIn = await createRouteserverStandIn({ grpcPort: null, initialState: TWO_SANDBOXES });
  });
  after(() => standIn.close());

  it('answers loopback Host names on any port, with or without a loopback Origin', async () => {
    for (const host of ['127.0.0.1:7778', 'localhost:7778', 'localhost', '[::1]:7778', '127.0.0.2:9']) {
      const response = await inject({ url: '/admin/state', headers: { host } });
      assert.equal(response.statusCode, 200, `${host}: ${response.body}`);
    }
    const put = await inject({
      method: 'PUT',
      url: '/admin/sandboxes/gamma',
      headers: {
        host: 'localhost:7778',
        origin: 'http://localhost:3000',
        'content-type': 'application/json',
      },
      payload: { routingKey: 'kc', forks: [{ kind: 'Deployment', namespace: 'local', name: 'worker' }] },
    });
    assert.equal(put.statusCode, 201, put.body);
    assert.equal(
      (await inject({ method: 'DELETE', url: '/admin/sandboxes/gamma', headers: { host: 'localhost' } }))
        .statusCode,
      204,
    );
  });

  it('refuses a Host that is not a loopback name (DNS rebinding), for reads and changes', async () => {
    for (const host of [
      'evil.example:7778',
      'routeserver.signadot.svc:7778',
      '10.0.0.5:7778',
      'localhost.evil.example',
    ]) {
      const read = await inject({ url: '/admin/state', headers: { host } });
      assert.equal(read.statusCode, 403, `${host}: ${read.body}`);
      assert.match(read.json().message, /loopback/);
      const reset = await inject({ method: 'POST', url: '/admin/reset', headers: { host } });
      assert.equal(reset.statusCode, 403, host);
    }
    assert.ok(Object.keys((await state()).sandboxes).includes('alpha'), 'nothing was reset');
  });

  it('refuses a cross-site request: an Origin that is not loopback, or a fetch marked cross-site', async () => {
    const cases: [string, Record<string, string>][] = [
      ['a foreign Origin', { origin: 'https://evil.example' }],
      ['an opaque Origin (sandboxed frame, file:)', { origin: 'null' }],
      ['a loopback-looking foreign Origin', { origin: 'http://localhost.evil.example' }],
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ];
    for (const [what, headers] of cases) {
      const reset = await inject({
        method: 'POST',
        url: '/admin/reset',
        headers: { host: 'localhost:7778', ...headers },
      });
      assert.equal(reset.statusCode, 403, `${what}: ${reset.body}`);
      assert.match(reset.json().message, /cross-site/, what);
      const read = await inject({ url: '/admin/state', headers: { host: 'localhost:7778', ...headers } });
      assert.equal(read.statusCode, 403, `${what} (GET)`);
    }
    assert.ok(Object.keys((await state()).sandboxes).includes('alpha'), 'nothing was reset');
  });

  it('refuses the body types a cross-site form or no-cors fetch can send without asking (simple requests)', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const reset = await inject({
        method: 'POST',
        url: '/admin/reset',
        headers: { host: '127.0.0.1:7778', 'content-type': type },
        payload: 'x=1',
      });
      assert.equal(reset.statusCode, 415, `${type}: ${reset.body}`);
      assert.match(reset.json().message, /application\/json/);
    }
    assert.ok(Object.keys((await state()).sandboxes).includes('alpha'), 'nothing was reset');
    const plain = await inject({ method: 'POST', url: '/admin/reset', headers: { host: '127.0.0.1:7778' } });
    assert.equal(plain.statusCode, 204, 'a script without a body still resets');
  });

  it('guards the admin routes however the path is spelled (percent-encoded, query string)', async () => {
    for (const url of ['/%61dmin/reset', '/admin/reset?x=1', '/admin/%72eset']) {
      const reset = await inject({ method: 'POST', url, headers: { host: 'evil.example:7778' } });
      assert.equal(reset.statusCode, 403, `${url}: ${reset.body}`);
    }
  });

  it('refuses a client on another machine, even one that says Host: localhost', async () => {
    const remote = await inject({
      url: '/admin/state',
      headers: { host: 'localhost:7778' },
      remoteAddress: '10.1.2.3',
    });
    assert.equal(remote.statusCode, 403, remote.body);
    assert.match(remote.json().message, /loopback/);
  });

  it('leaves the Signadot-compatible read API as it is: any Host, any Origin, any client', async () => {
    const read = await inject({
      url: ROUTING_RULES_PATH,
      headers: { host: 'routeserver.signadot.svc:7778', origin: 'https://evil.example' },
      remoteAddress: '10.1.2.3',
    });
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.json().message, undefined);
  });
});
