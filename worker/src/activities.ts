/**
 * Activities of the sample order domain. They run on the worker's main thread, so this is where the
 * variant lives: workflow code stays identical (and deterministic) in every build, and only what
 * activities compute differs between the baseline (`standard`) and the sandbox (`v2`).
 *
 * Fast and deterministic on purpose (no I/O): tests and load tests check where each step ran, and
 * any wall-clock or network dependency would only add noise.
 */

import { currentRoutingKey } from '@sandbox-routing/core';
import { ApplicationFailure, activityInfo, log } from '@temporalio/activity';
import {
  type ActivityReport,
  type Confirmation,
  INVALID_ORDER_ERROR_TYPE,
  type OrderLine,
  type PricingName,
  type PricingVariant,
  type Quote,
  type Reservation,
} from './order';

/**
 * Unit price of a line that names none, in cents. The producer's sample orders carry only `sku` and
 * `qty` (and `amount` = qty × 19.99), so this list price makes their totals match.
 */
export const LIST_PRICE_CENTS = 1999;

/** An order without `payload.items` (e.g. the README's `payload: {}`) buys one of these. */
export const SAMPLE_ORDER_LINE: Readonly<OrderLine> = Object.freeze({
  sku: 'sample-widget',
  quantity: 1,
  unitPriceCents: LIST_PRICE_CENTS,
});

/** The `v2` variant's discount, in percent. */
export const V2_DISCOUNT_PERCENT = 10;

/* Bounds keep a hostile or broken payload from producing absurd totals or huge results. */
const MAX_LINES = 100;
const MAX_QUANTITY = 1000;
const MAX_UNIT_PRICE_CENTS = 10_000_000;
const SKU = /^[A-Za-z0-9._-]{1,64}$/;

function invalidOrder(eventId: string, problem: string): ApplicationFailure {
  // Retrying cannot fix a payload, so fail the workflow at once instead of retrying forever.
  return ApplicationFailure.nonRetryable(`order ${eventId}: ${problem}`, INVALID_ORDER_ERROR_TYPE);
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}

/**
 * The order lines of an event payload: `payload.items` as `[{ sku, quantity, unitPriceCents }]`
 * (`qty` is accepted for `quantity`, as the producer's sample orders write it; a missing
 * `unitPriceCents` means {@link LIST_PRICE_CENTS}), or one {@link SAMPLE_ORDER_LINE} when the
 * payload has no `items`.
 * @throws ApplicationFailure (non-retryable, type `InvalidOrder`) when `items` is malformed
 */
export function orderLinesOf(eventId: string, payload: Record<string, unknown>): OrderLine[] {
  const items: unknown = payload.items;
  if (items === undefined) return [{ ...SAMPLE_ORDER_LINE }];
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_LINES) {
    throw invalidOrder(eventId, `payload.items must be an array of 1-${MAX_LINES} lines`);
  }
  return items.map((item: unknown, index): OrderLine => {
    const line = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const { sku } = line;
    const quantity = line.quantity ?? line.qty;
    const unitPriceCents = line.unitPriceCents ?? LIST_PRICE_CENTS;
    if (typeof sku !== 'string' || !SKU.test(sku)) {
      throw invalidOrder(eventId, `payload.items[${index}].sku must be 1-64 characters of [A-Za-z0-9._-]`);
    }
    if (!isIntegerIn(quantity, 1, MAX_QUANTITY)) {
      throw invalidOrder(eventId, `payload.items[${index}].quantity must be an integer 1-${MAX_QUANTITY}`);
    }
    if (!isIntegerIn(unitPriceCents, 0, MAX_UNIT_PRICE_CENTS)) {
      throw invalidOrder(
        eventId,
        `payload.items[${index}].unitPriceCents must be an integer 0-${MAX_UNIT_PRICE_CENTS}`,
      );
    }
    return { sku, quantity, unitPriceCents };
  });
}

/** Prices `lines` the way `variant` does. Integer cents throughout, so totals are exact. */
export function priceLines(lines: readonly OrderLine[], variant: PricingVariant): Omit<Quote, 'report'> {
  const subtotalCents = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  const pricing: PricingName = variant === 'v2' ? 'v2-discount' : 'standard';
  const discountCents = variant === 'v2' ? Math.round((subtotalCents * V2_DISCOUNT_PERCENT) / 100) : 0;
  return { pricing, subtotalCents, discountCents, totalCents: subtotalCents - discountCents };
}

function formatCents(cents: number): string {
  return (cents / 100).toFixed(2);
}

/** Who the activities run as and which behaviour they implement. */
export interface OrderActivityOptions {
  /** This worker's instance label (`instanceLabel` of shared: `baseline` or the sandbox name). */
  instance: string;
  /** The behaviour this worker runs (`WORKER_VARIANT`). */
  variant: PricingVariant;
  /**
   * The task queue of the running activity. Defaults to Temporal's activity context; unit tests,
   * which run activities outside a worker, pass their own.
   */
  taskQueue?: () => string;
  /**
   * Where an activity logs. Defaults to Temporal's activity logger (the worker's log, with the
   * activity's ids, routing key, owner and trace id); unit tests, outside a worker, pass their own.
   */
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * The order activities of one worker. Each returns an {@link ActivityReport}: its name, the instance
 * and task queue that ran it, and the routing key it saw, so a workflow result proves where it ran.
 */
export function createOrderActivities(options: OrderActivityOptions) {
  const taskQueue = options.taskQueue ?? (() => activityInfo().taskQueue);
  const info = options.log ?? ((message, fields) => log.info(message, fields));
  const report = (name: string): ActivityReport => ({
    name,
    instance: options.instance,
    taskQueue: taskQueue(),
    routingKey: currentRoutingKey() ?? null,
  });

  return {
    /** Reads the order lines from the event payload and "reserves" them. */
    async reserveInventory(input: {
      eventId: string;
      payload: Record<string, unknown>;
    }): Promise<Reservation> {
      const lines = orderLinesOf(input.eventId, input.payload);
      return { reservationId: `res-${input.eventId}`, lines, report: report('reserveInventory') };
    },

    /** Prices the order: `standard`, or with the `v2` discount. The variant lives here, not in workflows. */
    async priceOrder(input: { eventId: string; lines: OrderLine[] }): Promise<Quote> {
      const quote = priceLines(input.lines, options.variant);
      info('order priced', { eventId: input.eventId, pricing: quote.pricing, totalCents: quote.totalCents });
      return { ...quote, report: report('priceOrder') };
    },

    /** Builds the confirmation text (a real system would send it; this one has no I/O to stay fast). */
    async sendConfirmation(input: {
      eventId: string;
      lineCount: number;
      pricing: PricingName;
      totalCents: number;
    }): Promise<Confirmation> {
      const discount = input.pricing === 'v2-discount' ? ` incl. ${V2_DISCOUNT_PERCENT}% v2 discount` : '';
      return {
        message: `order ${input.eventId} confirmed: ${input.lineCount} line(s), total ${formatCents(input.totalCents)}${discount}`,
        report: report('sendConfirmation'),
      };
    },
  };
}

/** The activity functions a worker registers; workflows proxy this type. */
export type OrderActivities = ReturnType<typeof createOrderActivities>;
