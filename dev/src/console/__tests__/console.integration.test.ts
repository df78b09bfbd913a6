import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jaegerUrl, stackEnv } from '@sandbox-routing/testkit';
import type { Page } from 'playwright-core';
import { Pipeline } from '../../pipeline/pipeline';
import type { ServiceProcess } from '../../pipeline/service-process';
import { STACK_DIR } from '../../stack/paths';
import { launchChromium } from '../browser';

/**
 * The console in a real browser (Debian's Chromium, driven by playwright-core) against the real
 * stack: a baseline and a sandbox, each with a worker and an ingress process, and the console process.
 */
/** Markup that would run script if it were ever parsed as HTML. */
const XSS = '<img src=x onerror=globalThis.__xss=1>';
/** Generous: the machine may be loaded; the console shows each step as it happens anyway. */
const TRAIL_TIMEOUT_MS = 60_000;

const id = randomUUID().slice(0, 6);
const SANDBOX = `console-${id}`;
const KEY = `c${id}key01`;

/** A routeserver that answers like Signadot's, with a sandbox name full of markup. */
async function markupRouteserver(workerName: string): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (url.pathname !== '/api/v1/workloads/routing-rules') {
      response.writeHead(404).end();
      return;
    }
    const rules =
      url.searchParams.get('baselineName') === workerName
        ? [
            {
              routingKey: 'markup0key',
              baseline: { kind: 'Deployment', namespace: 'local', name: workerName },
              destinationSandbox: { name: XSS },
            },
          ]
        : [];
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ routingRules: rules }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('web console in a headless browser', () => {
  let pipeline: Pipeline;
  let consoleService: ServiceProcess;
  let markup: { url: string; server: Server };
  let markupConsole: ServiceProcess;
  /** A console that asks for its token, as one bound to a non-loopback address does. */
  let guardedConsole: ServiceProcess;
  /** An event sent and completed before any console started: its row must show on load. */
  let earlierEventId: string;
  const TOKEN = randomUUID();
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  const timings: {
    path: string;
    owner: string;
    shownMs: number;
    firstRecordMs: number | null;
    completedMs: number | null;
  }[] = [];

  before(async () => {
    const stack = stackEnv();
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', 'console-test'), {
      ROUTESERVER_REFRESH_INTERVAL_MS: '500',
      LOG_LEVEL: 'warn',
    });
    await pipeline.registerSandbox(SANDBOX, KEY, ['ingress', 'worker']);
    await Promise.all([pipeline.startWorker(''), pipeline.startWorker(SANDBOX)]);
    await Promise.all([pipeline.startIngress(''), pipeline.startIngress(SANDBOX)]);
    const earlier = await pipeline.publish({ routingKey: KEY, idPrefix: `before-${id}` });
    earlierEventId = earlier.events[0]?.id ?? '';
    await pipeline.outcome(earlierEventId);
    consoleService = await pipeline.startConsole();
    markup = await markupRouteserver(pipeline.workerBaseline);
    markupConsole = await pipeline.startConsole(undefined, { SIGNADOT_ROUTESERVER_URL: markup.url });
    guardedConsole = await pipeline.startConsole(undefined, { CONSOLE_TOKEN: TOKEN });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await pipeline?.stop();
    await new Promise((resolve) => markup?.server.close(resolve));
    if (timings.length > 0) {
      console.log('trail timings (send → shown completed in the page; → first record; → completed record):');
      for (const t of timings) {
        console.log(
          `  ${t.path.padEnd(8)} ${t.owner.padEnd(16)} shown ${t.shownMs} ms, first record ${t.firstRecordMs} ms, completed ${t.completedMs} ms`,
        );
      }
    }
  });

  async function openConsole(url: string, headers: Record<string, string> = {}): Promise<Page> {
    const page = await browser.context.newPage();
    await page.setExtraHTTPHeaders(headers);
    await page.goto(url);
    await page.locator('#connection', { hasText: 'live' }).waitFor({ timeout: 20_000 });
    return page;
  }

  /** Picks owner and path, sends one event, and waits for its row to complete; returns the row. */
  async function sendAndWatch(page: Page, ownerId: string, via: 'kafka' | 'temporal', payload: string) {
    await page.selectOption('#owner', ownerId);
    await page.check(`input[name=via][value=${via}]`);
    await page.fill('#payload', payload);
    await page.fill('#count', '1');
    const clicked = Date.now();
    await page.click('#send');
    const result = page.locator('#send-result', { hasText: /sent 1 event/ });
    await result.waitFor({ timeout: 20_000 });
    const eventId = /: (console-\S+)$/.exec((await result.textContent()) ?? '')?.[1];
    assert.ok(eventId, 'the page names the event it sent');
    const row = page.locator(`#trail tr[data-event-id="${eventId}"][data-status="completed"]`);
    await row.waitFor({ timeout: TRAIL_TIMEOUT_MS });
    const shownMs = Date.now() - clicked;
    const api = (await (await fetch(`${consoleService.httpUrl}/api/trail`)).json()) as {
      rows: { eventId: string; firstRecordAfterMs: number | null; completedAfterMs: number | null }[];
    };
    const measured = api.rows.find((r) => r.eventId === eventId);
    timings.push({
      path: via,
      owner: ownerId,
      shownMs,
      firstRecordMs: measured?.firstRecordAfterMs ?? null,
      completedMs: measured?.completedAfterMs ?? null,
    });
    return row;
  }

  it('shows on load the events sent before it started (recent history of the results topic)', async () => {
    const page = await openConsole(consoleService.httpUrl);
    const row = page.locator(`#trail tr[data-event-id="${earlierEventId}"][data-status="completed"]`);
    await row.waitFor({ timeout: 20_000 });
    assert.equal(await row.getAttribute('data-ended-on'), SANDBOX);
    assert.equal(await row.evaluate((tr) => tr.classList.contains('misplaced')), false);
    await page.close();
  });

  it('lists the baseline and the sandbox from the routeserver', async () => {
    const page = await openConsole(consoleService.httpUrl);
    const options = page.locator('#owner option');
    await page.locator(`#owner option[value="key:${KEY}"]`).waitFor({ state: 'attached' });
    const texts = await options.allTextContents();
    assert.ok(
      texts.some((t) => t.startsWith('baseline')),
      texts.join(' | '),
    );
    assert.ok(
      texts.some((t) => t.includes(SANDBOX) && t.includes(KEY)),
      texts.join(' | '),
    );
    await page.close();
  });

  it('shows a sandbox event sent through Kafka, ingested and run on the sandbox; the payload markup stays text', async () => {
    const page = await openConsole(consoleService.httpUrl);
    const row = await sendAndWatch(page, `key:${KEY}`, 'kafka', `{"note": "${XSS}", "n": {{seq}}}`);
    assert.equal(await row.getAttribute('data-ended-on'), SANDBOX);
    assert.equal(await row.evaluate((tr) => tr.classList.contains('misplaced')), false);
    const text = (await row.textContent()) ?? '';
    assert.ok(text.includes(XSS), `the payload is shown as text: ${text}`);
    assert.match(text, /p\d+ @\d+/, 'published partition and offset');
    assert.ok(text.includes(`${SANDBOX} on ${pipeline.taskQueue}@${SANDBOX}`), text);
    // The ingress traced its decision: the row links to the event's trace in the stack's Jaeger.
    const traceLink = row.locator('a.trace');
    await traceLink.waitFor({ timeout: 10_000 });
    const href = (await traceLink.getAttribute('href')) ?? '';
    assert.ok(href.startsWith(`${jaegerUrl()}/trace/`), href);
    assert.match(href, /\/trace\/[0-9a-f]{32}$/);
    assert.equal(await page.locator('#trail img').count(), 0, 'no element was made from the payload');
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss), undefined);
    const counters = page.locator(`#counters tr[data-owner="${SANDBOX}"] td`);
    assert.ok(Number(await counters.nth(3).textContent()) >= 1, 'the sandbox counts a completed event');

    // A refused send shows the server's reason, as text.
    await page.fill('#payload', `{"x": "{{${XSS}}}"}`);
    await page.click('#send');
    const error = page.locator('#send-result.error');
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /400 Bad Request: payload: unknown placeholder/);
    assert.equal(await page.locator('#send-result img').count(), 0);

    await page.close();
  });

  it('shows a sandbox event started straight in Temporal: redirected from the shared queue, ended on the sandbox', async () => {
    const page = await openConsole(consoleService.httpUrl);
    const row = await sendAndWatch(page, `key:${KEY}`, 'temporal', '{"n": {{seq}}}');
    assert.equal(await row.getAttribute('data-ended-on'), SANDBOX);
    const text = (await row.textContent()) ?? '';
    assert.ok(text.includes(`baseline on ${pipeline.taskQueue} ↪ ${pipeline.taskQueue}@${SANDBOX}`), text);
    assert.equal(await row.evaluate((tr) => tr.classList.contains('misplaced')), false);
    const link = await row.locator('a').getAttribute('href');
    assert.ok(
      link?.startsWith(`${stackEnv().TEMPORAL_UI_URL}/namespaces/default/workflows/evt-console-`),
      link ?? '',
    );
    await page.close();
  });

  it('shows a baseline event ending on the baseline', async () => {
    const page = await openConsole(consoleService.httpUrl);
    const row = await sendAndWatch(page, 'baseline', 'kafka', '{"n": {{seq}}}');
    assert.equal(await row.getAttribute('data-ended-on'), 'baseline');
    assert.equal(await row.evaluate((tr) => tr.classList.contains('misplaced')), false);
    await page.close();
  });

  it('pre-selects the owner a request carries in baggage (preview URL, browser extension) or in the query', async () => {
    const viaBaggage = await openConsole(consoleService.httpUrl, {
      baggage: `user=alice,sd-routing-key=${KEY}`,
    });
    await viaBaggage.locator(`#owner option[value="key:${KEY}"]`).waitFor({ state: 'attached' });
    assert.equal(await viaBaggage.inputValue('#owner'), `key:${KEY}`);
    await viaBaggage.close();
    const viaQuery = await openConsole(`${consoleService.httpUrl}/?sd-routing-key=${KEY}`);
    assert.equal(await viaQuery.inputValue('#owner'), `key:${KEY}`);
    await viaQuery.close();
    const plain = await openConsole(consoleService.httpUrl);
    assert.equal(await plain.inputValue('#owner'), 'baseline');
    await plain.close();
  });

  it('keeps every row and counter for a new page (and takes the screenshot)', async () => {
    const page = await openConsole(consoleService.httpUrl);
    await page.locator('#trail tr[data-status="completed"]').nth(2).waitFor();
    const counters = await page.locator('#counters tbody tr').allTextContents();
    assert.ok(
      counters.some((c) => c.startsWith('baseline')) && counters.some((c) => c.startsWith(SANDBOX)),
      counters.join(' | '),
    );
    // CONSOLE_SCREENSHOT=docs/console.png refreshes the README's picture.
    const file = process.env.CONSOLE_SCREENSHOT ?? path.join(STACK_DIR, 'reports', 'console.png');
    mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, fullPage: true });
    await page.close();
  });

  it('with a token, sends the browser to the login page; the token logs it in, and the page sends events', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${guardedConsole.httpUrl}/?sd-routing-key=${KEY}`);
    await page.locator('#token').waitFor({ timeout: 20_000 });
    assert.match(page.url(), /\/login\?next=/);
    await page.fill('#token', 'not-the-token');
    await page.click('#login');
    await page.locator('#login-error').waitFor();
    await page.fill('#token', TOKEN);
    await page.click('#login');
    await page.locator('#connection', { hasText: 'live' }).waitFor({ timeout: 20_000 });
    assert.equal(await page.inputValue('#owner'), `key:${KEY}`, 'the login kept the page address');
    const cookies = await browser.context.cookies(guardedConsole.httpUrl);
    const session = cookies.find((c) => c.name === 'sandbox_routing_console');
    assert.ok(session?.httpOnly && session.sameSite === 'Strict', JSON.stringify(cookies));
    await page.fill('#payload', '{"n": {{seq}}}');
    await page.click('#send');
    await page.locator('#send-result', { hasText: /sent 1 event/ }).waitFor({ timeout: 20_000 });
    const api = await fetch(`${guardedConsole.httpUrl}/api/trail`);
    assert.equal(api.status, 401, 'a script without the token is refused');
    const script = await fetch(`${guardedConsole.httpUrl}/api/trail`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(script.status, 200);
    await browser.context.clearCookies();
    await page.close();
  });

  it('renders a routeserver name full of markup as inert text', async () => {
    const page = await openConsole(markupConsole.httpUrl);
    const option = page.locator('#owner option[value="key:markup0key"]');
    await option.waitFor({ state: 'attached' });
    assert.ok(((await option.textContent()) ?? '').includes(XSS));
    await page.selectOption('#owner', 'key:markup0key');
    assert.ok(((await page.locator('#owner-detail').textContent()) ?? '').includes(`worker → ${XSS}`));
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss), undefined);
    await page.close();
  });
});
