// What PostgreSQL would refuse with an error, checked before a row joins a batch: one bad row must fail
// alone, not sink the one statement its whole batch goes in (orders in ledger.ts, reservations in
// reservations.ts). Each returns why, or null.

export function qtyProblem(qty: unknown): string | null {
  return typeof qty === 'number' && Number.isInteger(qty) && qty >= 1 && qty <= 2 ** 31 - 1 ? null : 'qty must be a whole number in 1..2^31-1';
}

/** A fingerprint goes in an int column: an Int32, or null. */
export function fingerprintProblem(print: unknown): string | null {
  return print === null || (typeof print === 'number' && Number.isInteger(print) && print >= -(2 ** 31) && print < 2 ** 31) ? null : 'fingerprint must be an Int32 or null';
}

/** PostgreSQL's text cannot hold NUL. */
export function nulProblem(texts: ReadonlyArray<unknown>): string | null {
  return texts.some((t) => typeof t === 'string' && t.includes('\u0000')) ? 'text fields must not contain NUL (PostgreSQL refuses it)' : null;
}
