/**
 * Workflows of the sample order domain, all in one module because the worker bundles this file
 * (`workflowsPath`). It runs inside Temporal's workflow sandbox: deterministic code only, imports from
 * `@temporalio/workflow`, `@sandbox-routing/shared/workflow` and type-only imports elsewhere.
 *
 * Nothing here depends on the worker's variant: the baseline and a sandbox run the same workflow
 * code, and only the activities they call behave differently. A workflow therefore replays the same
 * on any build, and its result shows which instance ran it.
 */
import type { PipelineEvent } from '@sandbox-routing/shared';
import {
  BASELINE_LABEL,
  currentRoutingKey,
  ownerLabel,
  ownerOfTaskQueue,
  sharedQueueOf,
} from '@sandbox-routing/shared/workflow';
import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrderActivities } from './activities';
import {
  type Approval,
  type ApprovalResult,
  INVALID_ORDER_ERROR_TYPE,
  type OrderResult,
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

/** Reserve, price, confirm: the steps both workflows share. */
async function fulfil(event: PipelineEvent, routingKey: string | undefined): Promise<OrderResult> {
  const workflow = placement();
  const reservation = await reserveInventory({ eventId: event.id, payload: event.payload });
  const quote = await priceOrder({ eventId: event.id, lines: reservation.lines });
  const confirmation = await sendConfirmation({
    eventId: event.id,
    lineCount: reservation.lines.length,
    pricing: quote.pricing,
    totalCents: quote.totalCents,
  });
  return {
    eventId: event.id,
    routingKey: routingKey ?? null,
    workflow,
    activities: [reservation.report, quote.report, confirmation.report],
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

/** Approves an order waiting in {@link awaitApproval}. Later approvals are ignored. */
export const approveSignal = defineSignal<[Approval]>('approve');

/** `waiting` until {@link approveSignal} arrives, then `approved`. */
export const approvalStatusQuery = defineQuery<'waiting' | 'approved'>('approvalStatus');

const MAX_APPROVER_LENGTH = 100;

/**
 * An order that waits for a human: it does nothing until the `approve` signal, then processes the
 * order like {@link processOrder}. A workflow that can wait indefinitely is what a deleted sandbox
 * leaves behind; the teardown command finds such workflows and restarts or terminates them.
 */
export async function awaitApproval(event: PipelineEvent): Promise<ApprovalResult> {
  assertOrderEvent(event);
  // Read now: the routing key of the workflow, not of whichever signal wakes it.
  const routingKey = currentRoutingKey();
  const state: { approval?: Approval } = {};
  setHandler(approveSignal, (approval: Approval) => {
    const approvedBy: unknown = approval?.approvedBy;
    state.approval ??= {
      approvedBy: typeof approvedBy === 'string' ? approvedBy.slice(0, MAX_APPROVER_LENGTH) : 'unknown',
    };
  });
  setHandler(approvalStatusQuery, () => (state.approval ? 'approved' : 'waiting'));
  await condition(() => state.approval !== undefined);
  const result = await fulfil(event, routingKey);
  return { ...result, approvedBy: state.approval?.approvedBy ?? 'unknown' };
}
