/**
 * The sample application's task queues: the order workflows' and the payments service's. Pure (no
 * imports): workflow code reads it too.
 */
export const SAMPLE_TASK_QUEUES = { orders: 'orders', payments: 'payments' } as const;
