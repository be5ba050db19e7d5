// FNV-1a, 32 bits, over the UTF-8 bytes of a user id: cheap, no dependencies, spreads short ids such as
// "user-1234" well enough for open addressing. Not keyed: the table compares full ids, so a collision
// costs a probe, never a wrong answer.

export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
