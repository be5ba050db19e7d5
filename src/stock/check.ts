// Argument checks shared by every strategy: a wrong SKU or quantity is a caller bug, thrown at once rather
// than turned into a silent NaN or an out-of-bounds read of another SKU's words.

export function checkTake(sku: number, qty: number, skuCount: number): void {
  if (!(sku >= 0 && sku < skuCount && (sku | 0) === sku)) throw new RangeError(`sku ${sku} is not in [0, ${skuCount}).`);
  if (!(qty > 0 && (qty | 0) === qty)) throw new RangeError(`qty ${qty} is not a positive whole number.`);
}
