/**
 * Takes the README's picture of the console: the demo's sandboxes, a few events through Kafka and one
 * straight to Temporal, then a headless Chromium screenshot of the page opened as a Signadot preview
 * URL would (baggage with pr-101's key).
 *
 *   npm run console:screenshot              # writes docs/console.png
 *   npm run console:screenshot -- out.png
 */
import path from 'node:path';
import { pollUntil } from '@sandbox-routing/testkit';
import { Pipeline } from '../pipeline/pipeline';
import { REPO_ROOT, STACK_DIR } from '../stack/paths';
import { down, isUp, up } from '../stack/stack';
import { launchChromium } from './browser';

const PR_101 = { name: 'pr-101', routingKey: 'ltj9s8scupb86' };
const PR_102 = { name: 'pr-102', routingKey: 'vf0ju8vw50wpu' };
const GROUP = { name: 'checkout-team', routingKey: 'rg4835rlwxwby' };

async function main(file: string): Promise<void> {
  const startedStack = !isUp();
  const stack = await up();
  const pipeline = new Pipeline({
    stack: {
      KAFKA_BROKERS: stack.KAFKA_BROKERS ?? '',
      TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS ?? '',
      TEMPORAL_UI_URL: stack.TEMPORAL_UI_URL ?? '',
      SIGNADOT_ROUTESERVER_URL: stack.SIGNADOT_ROUTESERVER_URL ?? '',
      SIGNADOT_ROUTESERVER_GRPC_ADDRESS: stack.SIGNADOT_ROUTESERVER_GRPC_ADDRESS ?? '',
    },
    logDir: path.join(STACK_DIR, 'logs', 'console-screenshot'),
    env: { LOG_LEVEL: 'warn' },
  });
  const browser = await launchChromium();
  try {
    // pr-101 forks the ingress and the worker; pr-102 only the worker (the baseline ingress takes its events).
    await pipeline.registerSandbox(PR_101.name, PR_101.routingKey, ['ingress', 'worker']);
    await pipeline.registerSandbox(PR_102.name, PR_102.routingKey, ['worker']);
    await pipeline.registerRouteGroup(GROUP.name, GROUP.routingKey, [PR_102.name]);
    for (const sandbox of ['', PR_101.name, PR_102.name]) await pipeline.startWorker(sandbox);
    for (const sandbox of ['', PR_101.name]) await pipeline.startIngress(sandbox);
    const consoleService = await pipeline.startConsole();
    const send = async (body: Record<string, unknown>) => {
      const response = await fetch(`${consoleService.httpUrl}/api/send`, {
        method: 'POST',
        // A state-changing request names the page it comes from (the console refuses it otherwise).
        headers: { 'content-type': 'application/json', origin: consoleService.httpUrl },
        body: JSON.stringify({
          type: 'order.created',
          payload: '{"orderId": "{{id}}", "items": [{"sku": "SKU-1", "qty": {{seq}}}]}',
          ...body,
        }),
      });
      if (!response.ok) throw new Error(`send: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { events: unknown[] }).events.length;
    };
    let sent = 0;
    sent += await send({ ownerId: 'baseline', via: 'kafka', count: 2 });
    sent += await send({ ownerId: `key:${PR_101.routingKey}`, via: 'kafka', count: 2 });
    sent += await send({ ownerId: `key:${GROUP.routingKey}`, via: 'kafka', count: 1 });
    sent += await send({ ownerId: `key:${PR_101.routingKey}`, via: 'temporal', count: 1 });
    await pollUntil(
      async () => {
        const trail = (await (await fetch(`${consoleService.httpUrl}/api/trail`)).json()) as {
          rows: { via: string | null; status: string }[];
        };
        return trail.rows.filter((r) => r.via && r.status === 'completed').length >= sent;
      },
      { description: `${sent} events to complete`, timeoutMs: 60_000 },
    );
    const page = await browser.context.newPage();
    await page.setExtraHTTPHeaders({ baggage: `sd-routing-key=${PR_101.routingKey}` });
    await page.goto(consoleService.httpUrl);
    await page
      .locator('#trail tr[data-status="completed"]')
      .nth(sent - 1)
      .waitFor();
    await page.screenshot({ path: file, fullPage: true });
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  } finally {
    await browser.close();
    await pipeline.stop();
    if (startedStack) await down();
  }
}

main(path.resolve(process.argv[2] ?? path.join(REPO_ROOT, 'docs', 'console.png'))).catch((error: unknown) => {
  console.error(`screenshot failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
