import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as activities from './activities';

const { greet } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
});

/** A workflow that simply calls an activity, and says which task queue it ran on. */
export async function example(name: string): Promise<{ greeting: string; workflowTaskQueue: string }> {
  return { greeting: await greet(name), workflowTaskQueue: workflowInfo().taskQueue };
}
