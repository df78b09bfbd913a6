/**
 * Workflows of the sample order domain, all in one module because the worker bundles this file
 * (`workflowsPath`). It runs inside Temporal's workflow sandbox: deterministic code only, imports from
 * `@temporalio/workflow`, `@sandbox-routing/temporal/workflow` and type-only imports elsewhere.
 *
 * Nothing here depends on the worker's variant: the baseline and a sandbox run the same workflow
 * code, and only the activities they call behave differently. A workflow therefore replays the same
 * on any build, and its result shows which instance ran it.
 */
import type { PipelineEvent } from '@sandbox-routing/sample';
import { SAMPLE_TASK_QUEUES } from '@sandbox-routing/sample/queues';
import {
  BASELINE_LABEL,
  currentRoutingKey,
  ownerLabel,
  ownerOfTaskQueue,
  sharedQueueOf,
} from '@sandbox-routing/temporal/workflow';
import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrderActivities } from './activities';
import {
  type Approval,
  type ApprovalReceipt,
  type ApprovalRecord,
  type ApprovalResult,
  INVALID_APPROVAL_ERROR_TYPE,
  INVALID_ORDER_ERROR_TYPE,
  INVALID_PAYMENT_ERROR_TYPE,
  MAX_RECORDED_APPROVALS,
  ORDER_CURRENCY,
  type OrderResult,
  type Payment,
  type PaymentActivities,
  type WorkflowPlacement,
} from './order';

const { reserveInventory, priceOrder, sendConfirmation } = proxyActivities<OrderActivities>({
  startToCloseTimeout: '10s',
  retry: {
    initialInterval: '1s',
    maximumInterval: '10s',
    nonRetryableErrorTypes: [INVALID_ORDER_ERROR_TYPE],
  },
});

/**
 * The payments service: another workload (Python), on its own task queue. Routing puts each charge on
 * the owner of the payments workload for the order's routing key (`payments@<sandbox>` when a sandbox
 * forks payments), whichever copy runs this workflow.
 */
const { chargePayment } = proxyActivities<PaymentActivities>({
  taskQueue: SAMPLE_TASK_QUEUES.payments,
  startToCloseTimeout: '10s',
  retry: {
    initialInterval: '1s',
    maximumInterval: '10s',
    nonRetryableErrorTypes: [INVALID_PAYMENT_ERROR_TYPE],
  },
});

/** Version marker of charging through the payments service: runs recorded before it replay without it. */
const CHARGE_THROUGH_PAYMENTS = 'charge-through-payments';

/** Where this workflow runs: the shared queue (baseline) or `<shared>@<sandbox>`. */
function placement(): WorkflowPlacement {
  const { taskQueue } = workflowInfo();
  const owner = ownerOfTaskQueue(sharedQueueOf(taskQueue), taskQueue);
  return { instance: owner ? ownerLabel(owner) : BASELINE_LABEL, taskQueue };
}

function assertOrderEvent(event: PipelineEvent | undefined): asserts event is PipelineEvent {
  // A start from the CLI or another client may pass anything; fail the workflow rather than its task
  // (a TypeError would fail the workflow task and be retried forever).
  if (typeof event?.id !== 'string' || typeof event.payload !== 'object' || event.payload === null) {
    throw ApplicationFailure.nonRetryable(
      'expected a PipelineEvent with an id and a payload object',
      INVALID_ORDER_ERROR_TYPE,
    );
  }
}

/** Reserve, price, charge, confirm: the steps both workflows share. */
async function fulfil(event: PipelineEvent, routingKey: string | undefined): Promise<OrderResult> {
  const workflow = placement();
  const reservation = await reserveInventory({ eventId: event.id, payload: event.payload });
  const quote = await priceOrder({ eventId: event.id, lines: reservation.lines });
  const payment: Payment | undefined = patched(CHARGE_THROUGH_PAYMENTS)
    ? await chargePayment({ eventId: event.id, amountCents: quote.totalCents, currency: ORDER_CURRENCY })
    : undefined;
  const confirmation = await sendConfirmation({
    eventId: event.id,
    lineCount: reservation.lines.length,
    pricing: quote.pricing,
    totalCents: quote.totalCents,
  });
  // Temporal's workflow logger: not written again on replay; the worker's log line gets the run's ids,
  // its routing key and owner, and its trace id (the interceptors' log attributes).
  log.info('order fulfilled', { eventId: event.id, pricing: quote.pricing, totalCents: quote.totalCents });
  return {
    eventId: event.id,
    routingKey: routingKey ?? null,
    workflow,
    activities: [reservation.report, quote.report, ...(payment ? [payment.report] : []), confirmation.report],
    payment: payment
      ? { chargeId: payment.chargeId, chargedCents: payment.chargedCents, feeCents: payment.feeCents }
      : null,
    reservationId: reservation.reservationId,
    pricing: quote.pricing,
    subtotalCents: quote.subtotalCents,
    discountCents: quote.discountCents,
    totalCents: quote.totalCents,
    confirmation: confirmation.message,
  };
}

/**
 * Processes one `order.created` event: reserves inventory, prices the order (the sandbox's `v2`
 * variant gives a discount) and confirms it. The result names the instance that ran the workflow and
 * each activity, and the routing key the workflow saw.
 */
export async function processOrder(event: PipelineEvent): Promise<OrderResult> {
  assertOrderEvent(event);
  return fulfil(event, currentRoutingKey());
}

/** Approves an order waiting in {@link awaitApproval}. The first approval counts; later ones are recorded. */
export const approveSignal = defineSignal<[Approval]>('approve');

/**
 * The same approval as an update: validated first (a missing or empty approver is rejected, type
 * `InvalidApproval`), then answered with a receipt naming the run that handled it.
 */
export const approveUpdate = defineUpdate<ApprovalReceipt, [Approval]>('approveOrder');

/** `waiting` until the first approval arrives, then `approved`. */
export const approvalStatusQuery = defineQuery<'waiting' | 'approved'>('approvalStatus');

const MAX_APPROVER_LENGTH = 100;

/**
 * An order that waits for a human: it does nothing until approved (by the `approve` signal or the
 * `approveOrder` update), then processes the order like {@link processOrder}. A workflow that can
 * wait indefinitely is what a deleted sandbox leaves behind; the teardown command finds such
 * workflows and restarts or terminates them. Its result lists every approval it received, so tests
 * can check that none was lost or doubled on the way to the run that owns the key.
 */
export async function awaitApproval(event: PipelineEvent): Promise<ApprovalResult> {
  assertOrderEvent(event);
  // Read now: the routing key of the workflow, not of whichever signal wakes it.
  const routingKey = currentRoutingKey();
  const approvals: ApprovalRecord[] = [];
  let approvedBy: string | undefined;
  const approve = (who: string, via: ApprovalRecord['via']): boolean => {
    if (approvals.length < MAX_RECORDED_APPROVALS) approvals.push({ approvedBy: who, via });
    const first = approvedBy === undefined;
    approvedBy ??= who;
    return first;
  };
  setHandler(approveSignal, (approval: Approval) => {
    // A signal cannot be rejected: keep what can be kept of a malformed one.
    const who: unknown = approval?.approvedBy;
    approve(typeof who === 'string' && who !== '' ? who.slice(0, MAX_APPROVER_LENGTH) : 'unknown', 'signal');
  });
  setHandler(
    approveUpdate,
    (approval: Approval): ApprovalReceipt => {
      const first = approve(approval.approvedBy, 'update');
      return { approvedBy: approvedBy ?? approval.approvedBy, first, workflow: placement() };
    },
    {
      validator: (approval: Approval) => {
        const who: unknown = approval?.approvedBy;
        if (typeof who !== 'string' || who === '' || who.length > MAX_APPROVER_LENGTH) {
          throw ApplicationFailure.nonRetryable(
            `approvedBy must be 1-${MAX_APPROVER_LENGTH} characters`,
            INVALID_APPROVAL_ERROR_TYPE,
          );
        }
      },
    },
  );
  setHandler(approvalStatusQuery, () => (approvedBy === undefined ? 'waiting' : 'approved'));
  await condition(() => approvedBy !== undefined);
  const result = await fulfil(event, routingKey);
  return { ...result, approvedBy: approvedBy ?? 'unknown', approvals };
}
