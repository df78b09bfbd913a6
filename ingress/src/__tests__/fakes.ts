/** Test helpers of the ingress: the Kafka seam's fakes (from `@sandbox-routing/kafka/testing`), a workflow starter, metrics. */
import { Registry } from 'prom-client';
import type { WorkflowStarter } from '../handler';
import { ingressMetrics } from '../metrics';

export {
  consumed,
  FakeAdmin,
  FakeSink,
  FakeSource,
  headers,
  settle,
  silentLogger,
} from '@sandbox-routing/kafka/testing';

export function testMetrics() {
  return ingressMetrics(new Registry());
}

/** A workflow starter that records starts; `next` decides the outcome of the next calls. */
export class FakeStarter implements WorkflowStarter {
  readonly starts: { workflowType: string; workflowId: string; taskQueue: string }[] = [];
  readonly next: (() => Promise<string>)[] = [];

  async start(
    workflowType: string,
    options: Parameters<WorkflowStarter['start']>[1],
    signal: AbortSignal,
  ): Promise<string> {
    const planned = this.next.shift();
    if (signal.aborted) throw signal.reason;
    const runId = planned ? await planned() : `run-${this.starts.length}`;
    this.starts.push({ workflowType, workflowId: options.workflowId, taskQueue: options.taskQueue });
    return runId;
  }
}
