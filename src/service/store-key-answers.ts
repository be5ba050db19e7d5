// What an Idempotency-Key keeps on the stores: its request's final answer, as the in-process service keeps
// it (src/service/idempotency.ts complete(): every answer below 500). In Redis a key's record ends with the
// answer; a 201 is kept as its bare body (as checkouts and the rebuild write it), any other status as
// the three digits followed by the body. 5xx answers are not kept: the key is forgotten and a retry runs again.

/** The text to keep for `status` and `body`, or null when the answer must not be kept (5xx). */
export function keyAnswer(status: number, body: string): string | null {
  if (status >= 500 || status < 200) return null;
  return status === 201 ? body : `${status}${body}`;
}

/** A kept answer back as status and body. */
export function replayOf(answer: string): { status: number; body: string } {
  if (/^[2-4][0-9][0-9]/.test(answer)) return { status: Number(answer.slice(0, 3)), body: answer.slice(3) };
  return { status: 201, body: answer };
}
