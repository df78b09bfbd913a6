import { Application, type WorkloadDeclaration } from '@sandbox-routing/core';
import { SAMPLE_TASK_QUEUES } from './queues';

/** The sample application's workloads. */
export type SampleWorkload = 'worker' | 'payments' | 'ingress' | 'notifier';

/**
 * The sample application as a declaration, for services started without `ROUTING_APPLICATION_FILE`:
 * the order worker (`orders`), the Python payments service (`payments`), and two consumers of `events`
 * in their own groups, the ingress and the notifier; each a Deployment named like its workload, in
 * `namespace`. A service passes what it knows of itself (and of the workloads it calls) in `actual`,
 * so renamed queues and baselines are declared as they run.
 */
export function sampleApplication(
  namespace: string,
  actual: Partial<Record<SampleWorkload, WorkloadDeclaration>> = {},
): Application {
  const baseline = (name: string) => ({ kind: 'Deployment', namespace, name });
  const defaults: Record<SampleWorkload, WorkloadDeclaration> = {
    worker: {
      name: 'worker',
      baseline: baseline('worker'),
      taskQueues: [SAMPLE_TASK_QUEUES.orders],
      consumers: [],
    },
    payments: {
      name: 'payments',
      baseline: baseline('payments'),
      taskQueues: [SAMPLE_TASK_QUEUES.payments],
      consumers: [],
    },
    ingress: {
      name: 'ingress',
      baseline: baseline('ingress'),
      taskQueues: [],
      consumers: [{ topic: 'events', group: 'ingress' }],
    },
    notifier: {
      name: 'notifier',
      baseline: baseline('notifier'),
      taskQueues: [],
      consumers: [{ topic: 'events', group: 'notifier' }],
    },
  };
  return new Application(Object.values({ ...defaults, ...actual }));
}
