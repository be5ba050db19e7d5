// Request templates for the built-in service's API (docs/service.md), so a
// scenario with `"target": "built-in"` — or one pointed at another copy of that service — needs none.
import type { RequestTemplate, Step } from '../contract/load-plan.ts';

const HEADERS = { 'content-type': 'application/json', 'idempotency-key': '${idempotencyKey}' };
const SUCCESS = { status: [201] };
const SOLD_OUT = { status: [409] };

/** `qty` is known when the plan is made, so it goes into the body as a JSON number. */
export function builtInRequests(qty: number): Record<Step, RequestTemplate> {
  const purchase = { sku: '${sku}', userId: '${userId}', qty };
  return {
    checkout: {
      method: 'POST',
      path: '/api/v1/checkout',
      headers: { ...HEADERS },
      body: { json: purchase },
      success: SUCCESS,
      soldOut: SOLD_OUT,
      captureId: 'orderId',
    },
    reserve: {
      method: 'POST',
      path: '/api/v1/reservations',
      headers: { ...HEADERS },
      body: { json: { ...purchase } },
      success: SUCCESS,
      soldOut: SOLD_OUT,
      captureId: 'reservationId',
    },
    pay: {
      method: 'POST',
      path: '/api/v1/orders',
      headers: { ...HEADERS },
      body: { json: { reservationId: '${reservationId}' } },
      success: SUCCESS,
      soldOut: SOLD_OUT,
      captureId: 'orderId',
    },
  };
}
