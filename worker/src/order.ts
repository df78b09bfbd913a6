/**
 * Types of the sample order domain, shared by workflows (bundled into Temporal's workflow sandbox),
 * activities and clients. Pure declarations and constants only: nothing here may import Node modules.
 */

/** The behaviours a worker build can run (`WORKER_VARIANT`). */
export const PRICING_VARIANTS = ['standard', 'v2'] as const;
/** `standard` (the baseline's behaviour) or `v2` (the sandbox's change: a 10% discount). */
export type PricingVariant = (typeof PRICING_VARIANTS)[number];

/** How an order was priced, as the result reports it: tells a baseline run from a `v2` run at a glance. */
export type PricingName = 'standard' | 'v2-discount';

/** One line of an order, as read from the event payload (`payload.items`). */
export interface OrderLine {
  sku: string;
  quantity: number;
  /** Price of one unit in cents (integers, so totals are exact). */
  unitPriceCents: number;
}

/** Where an activity ran and which routing key it saw: every activity returns one. */
export interface ActivityReport {
  name: string;
  /** `baseline` or the sandbox name of the worker that ran it. */
  instance: string;
  taskQueue: string;
  /** The routing key in the activity's context (`currentRoutingKey()`), `null` without one. */
  routingKey: string | null;
}

/** What `reserveInventory` returns. */
export interface Reservation {
  reservationId: string;
  lines: OrderLine[];
  report: ActivityReport;
}

/** What `priceOrder` returns. */
export interface Quote {
  pricing: PricingName;
  subtotalCents: number;
  discountCents: number;
  totalCents: number;
  report: ActivityReport;
}

/** What the workflow asks the payments service (`chargePayment`, on its own task queue). */
export interface PaymentRequest {
  eventId: string;
  amountCents: number;
  currency: string;
}

/** What `chargePayment` returns: the payments service (Python) reports where it ran like our activities. */
export interface Payment {
  chargeId: string;
  /** The amount plus the fee. */
  chargedCents: number;
  /** 0 on the baseline; the `v2` payments service (a fork's pull request) charges a 1% fee. */
  feeCents: number;
  report: ActivityReport;
}

/** The payments service's activities: served by another workload, on the `payments` queue. */
export interface PaymentActivities {
  chargePayment(request: PaymentRequest): Promise<Payment>;
}

/** Non-retryable failure type of a payment request the payments service refuses. */
export const INVALID_PAYMENT_ERROR_TYPE = 'InvalidPayment';

/** Currency of the sample's orders. */
export const ORDER_CURRENCY = 'EUR';

/** What `sendConfirmation` returns. */
export interface Confirmation {
  message: string;
  report: ActivityReport;
}

/** Where the workflow code ran, derived from its task queue. */
export interface WorkflowPlacement {
  /** `baseline` or the sandbox name. */
  instance: string;
  taskQueue: string;
}

/** What `processOrder` returns: the order's price and where each step ran. */
export interface OrderResult {
  eventId: string;
  /** The routing key the workflow saw, `null` without one. */
  routingKey: string | null;
  workflow: WorkflowPlacement;
  /** In execution order: reserveInventory, priceOrder, chargePayment (payments service), sendConfirmation. */
  activities: ActivityReport[];
  /** What the payments service charged; null for runs recorded before orders were charged. */
  payment: Pick<Payment, 'chargeId' | 'chargedCents' | 'feeCents'> | null;
  reservationId: string;
  pricing: PricingName;
  subtotalCents: number;
  discountCents: number;
  totalCents: number;
  confirmation: string;
}

/** The argument of the `approve` signal and of the `approveOrder` update. */
export interface Approval {
  approvedBy: string;
}

/** One approval the workflow received, by signal or by update, in arrival order. */
export interface ApprovalRecord {
  approvedBy: string;
  via: 'signal' | 'update';
}

/** What the `approveOrder` update answers: proof of who handled it and whether it was the deciding one. */
export interface ApprovalReceipt {
  /** The approver that counts: the first one the workflow received. */
  approvedBy: string;
  /** True when this update was that first approval. */
  first: boolean;
  /** The workflow run that handled the update: `baseline` or the sandbox name, and its task queue. */
  workflow: WorkflowPlacement;
}

/** What `awaitApproval` returns: the order result once someone approved it. */
export interface ApprovalResult extends OrderResult {
  /** The first approver. */
  approvedBy: string;
  /** Every approval received (at most {@link MAX_RECORDED_APPROVALS}), in arrival order. */
  approvals: ApprovalRecord[];
}

/** Most approvals an `awaitApproval` result lists; later ones are still accepted, not listed. */
export const MAX_RECORDED_APPROVALS = 100;

/** Failure type of an `approveOrder` update its validator rejects. */
export const INVALID_APPROVAL_ERROR_TYPE = 'InvalidApproval';

/** Non-retryable failure type of an order whose payload cannot be read. */
export const INVALID_ORDER_ERROR_TYPE = 'InvalidOrder';
