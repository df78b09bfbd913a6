import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instanceLabel, runWithRoutingKey } from '@sandbox-routing/core';
import { ApplicationFailure } from '@temporalio/activity';
import {
  createOrderActivities,
  LIST_PRICE_CENTS,
  orderLinesOf,
  priceLines,
  SAMPLE_ORDER_LINE,
} from '../activities';
import { INVALID_ORDER_ERROR_TYPE, type OrderLine } from '../order';

const LINES: OrderLine[] = [
  { sku: 'widget', quantity: 2, unitPriceCents: 1250 },
  { sku: 'gadget', quantity: 1, unitPriceCents: 999 },
];

/** Activities as a worker with this identity would register them, outside Temporal. */
function activitiesOf(instance: string, variant: 'standard' | 'v2', taskQueue: string) {
  return createOrderActivities({ instance, variant, taskQueue: () => taskQueue, log: () => undefined });
}

function isInvalidOrder(error: unknown): boolean {
  return (
    error instanceof ApplicationFailure &&
    error.type === INVALID_ORDER_ERROR_TYPE &&
    error.nonRetryable === true
  );
}

describe('order activities', () => {
  it('price at list price in the standard variant', async () => {
    const quote = await activitiesOf('baseline', 'standard', 'orders').priceOrder({
      eventId: 'e1',
      lines: LINES,
    });
    assert.deepEqual(
      { ...quote, report: undefined },
      { pricing: 'standard', subtotalCents: 3499, discountCents: 0, totalCents: 3499, report: undefined },
    );
  });

  it('give the 10% discount in the v2 variant, rounded to the cent, and say so', async () => {
    const activities = activitiesOf('pr-42', 'v2', 'orders@pr-42');
    const quote = await activities.priceOrder({ eventId: 'e1', lines: LINES });
    assert.deepEqual(
      [quote.pricing, quote.subtotalCents, quote.discountCents, quote.totalCents],
      ['v2-discount', 3499, 350, 3149],
    );
    const confirmation = await activities.sendConfirmation({
      eventId: 'e1',
      lineCount: 2,
      pricing: quote.pricing,
      totalCents: quote.totalCents,
    });
    assert.equal(confirmation.message, 'order e1 confirmed: 2 line(s), total 31.49 incl. 10% v2 discount');
  });

  it('report the instance, task queue and routing key they ran with', async () => {
    const activities = activitiesOf('pr-42', 'v2', 'orders@pr-42');
    const reservation = await runWithRoutingKey('k7x2m9p4q1w8z', () =>
      activities.reserveInventory({ eventId: 'e1', payload: {} }),
    );
    assert.deepEqual(reservation.report, {
      name: 'reserveInventory',
      instance: 'pr-42',
      taskQueue: 'orders@pr-42',
      routingKey: 'k7x2m9p4q1w8z',
    });
    const unkeyed = await activitiesOf('baseline', 'standard', 'orders').priceOrder({
      eventId: 'e1',
      lines: LINES,
    });
    assert.deepEqual(unkeyed.report, {
      name: 'priceOrder',
      instance: 'baseline',
      taskQueue: 'orders',
      routingKey: null,
    });
  });

  it('reserve the sample line for a payload without items, and the given lines otherwise', async () => {
    const activities = activitiesOf('baseline', 'standard', 'orders');
    const sample = await activities.reserveInventory({ eventId: 'e1', payload: {} });
    assert.deepEqual(sample.lines, [SAMPLE_ORDER_LINE]);
    assert.equal(sample.reservationId, 'res-e1');
    const given = await activities.reserveInventory({ eventId: 'e2', payload: { items: LINES } });
    assert.deepEqual(given.lines, LINES);
  });

  it('reject malformed order lines with a non-retryable InvalidOrder failure', async () => {
    const activities = activitiesOf('baseline', 'standard', 'orders');
    for (const items of [
      [],
      'widget',
      [{ sku: 'widget', quantity: 0, unitPriceCents: 100 }],
      [{ sku: 'widget', quantity: 1.5, unitPriceCents: 100 }],
      [{ sku: 'wid get', quantity: 1, unitPriceCents: 100 }],
      [{ sku: 'widget', quantity: 1, unitPriceCents: -1 }],
      [{ sku: 'widget', quantity: 1, unitPriceCents: '100' }],
      [{ sku: 'widget' }],
      [null],
      Array.from({ length: 101 }, () => ({ sku: 'w', quantity: 1, unitPriceCents: 1 })),
    ]) {
      await assert.rejects(
        activities.reserveInventory({ eventId: 'e1', payload: { items } }),
        isInvalidOrder,
        JSON.stringify(items).slice(0, 80),
      );
    }
  });

  it("read the producer's sample orders: qty for quantity, list price when no unit price is given", () => {
    const lines = orderLinesOf('e1', {
      orderId: 'order-2',
      items: [{ sku: 'SKU-102', qty: 3 }],
      amount: 59.97,
    });
    assert.deepEqual(lines, [{ sku: 'SKU-102', quantity: 3, unitPriceCents: LIST_PRICE_CENTS }]);
    assert.equal(priceLines(lines, 'standard').totalCents, 5997, 'matches the payload amount');
  });

  it('name the baseline "baseline" and a fork by its sandbox', () => {
    assert.equal(instanceLabel(''), 'baseline');
    assert.equal(instanceLabel('pr-42'), 'pr-42');
  });

  it('price without floating-point drift', () => {
    const lines = [{ sku: 'a', quantity: 3, unitPriceCents: 333 }];
    assert.deepEqual(priceLines(lines, 'v2'), {
      pricing: 'v2-discount',
      subtotalCents: 999,
      discountCents: 100,
      totalCents: 899,
    });
    assert.deepEqual(orderLinesOf('e', { items: lines }), lines);
  });
});
