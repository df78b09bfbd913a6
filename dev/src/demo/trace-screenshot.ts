/**
 * Takes the README's picture of one event's trace: the demo's sandbox pr-101 (forking the ingress and
 * the worker), one event with its key through the producer CLI, then a headless Chromium screenshot
 * of the event's trace in the stack's trace view (Jaeger's `/trace/<id>`).
 *
 *   npm run traces:screenshot              # writes docs/trace.png
 *   npm run traces:screenshot -- out.png
 */
import path from 'node:path';
import { awaitTrace, jaegerUrl } from '@sandbox-routing/testkit';
import { launchChromium } from '../console/browser';
import { Pipeline, stackEnvFrom } from '../pipeline/pipeline';
import { REPO_ROOT, STACK_DIR } from '../stack/paths';
import { down, isUp, up } from '../stack/stack';

const PR_101 = { name: 'pr-101', routingKey: 'ltj9s8scupb86' };
const ACTIVITIES = ['reserveInventory', 'priceOrder', 'sendConfirmation'];

async function main(file: string): Promise<void> {
  const startedStack = !isUp();
  const stack = stackEnvFrom(await up());
  const jaeger = jaegerUrl(stack);
  const pipeline = new Pipeline({
    stack,
    logDir: path.join(STACK_DIR, 'logs', 'trace-screenshot'),
    env: { LOG_LEVEL: 'warn' },
  });
  const browser = await launchChromium();
  try {
    await pipeline.registerSandbox(PR_101.name, PR_101.routingKey, ['ingress', 'worker']);
    for (const sandbox of ['', PR_101.name]) {
      await pipeline.startWorker(sandbox);
      await pipeline.startIngress(sandbox);
    }
    const summary = await pipeline.publish({
      idPrefix: `trace-${Date.now().toString(36)}`,
      routingKey: PR_101.routingKey,
    });
    const event = summary.events[0];
    if (!event?.traceId) throw new Error('the producer reported no trace id');
    await pipeline.outcome(event.id);
    await awaitTrace(jaeger, event.traceId, (spans) =>
      ACTIVITIES.every((a) => spans.some((s) => s.operation === `RunActivity:${a}`)),
    );
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1600, height: 900 });
    await page.goto(`${jaeger}/trace/${event.traceId}`);
    await page.locator('table tbody tr').first().waitFor();
    await page.screenshot({ path: file, fullPage: true });
    console.log(`wrote ${path.relative(process.cwd(), file)} (${jaeger}/trace/${event.traceId})`);
  } finally {
    await browser.close();
    await pipeline.stop();
    await pipeline.deleteSandbox(PR_101.name);
    if (startedStack) await down();
  }
}

main(path.resolve(process.argv[2] ?? path.join(REPO_ROOT, 'docs', 'trace.png'))).catch((error: unknown) => {
  console.error(`screenshot failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
