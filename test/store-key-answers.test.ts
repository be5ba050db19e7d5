// What an Idempotency-Key keeps on the stores (src/service/store-key-answers.ts): a 201 as its bare body
// (as checkouts' confirms and the rebuild write it), any other final answer as status + body; 5xx nothing.
import { describe, expect, it } from 'vitest';
import { keyAnswer, replayOf } from '../src/service/store-key-answers.ts';

describe('keys kept on the stores', () => {
  it('keeps 201 and 4xx answers, and gives them back as they were', () => {
    const order = '{"orderId":"o1-2"}';
    expect(keyAnswer(201, order)).toBe(order);
    expect(replayOf(order)).toEqual({ status: 201, body: order });
    for (const status of [402, 404, 409, 410, 422, 429]) {
      const body = `{"error":"e${status}","message":"m"}`;
      const kept = keyAnswer(status, body);
      expect(kept).not.toBeNull();
      expect(replayOf(kept!)).toEqual({ status, body }); // kept above
    }
  });

  it('keeps no 5xx: a retry runs again', () => {
    for (const status of [500, 503]) expect(keyAnswer(status, '{"error":"x"}')).toBeNull();
  });
});
