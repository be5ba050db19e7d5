// Redis Cluster hash slots, computed here: a Lua script may touch keys of one slot only, and a tag is not
// the only way to land in one — any tag that hashes to the same slot will do. redis-leased uses this to
// put a marker key next to every user's count and keys (keys.ts slotMarkKey): one per slot, each under a
// short tag chosen to hash to that slot.
//
// The slot of a key (Redis Cluster spec, "Keys distribution model"): CRC16 (XMODEM: polynomial 0x1021,
// initial value 0, no reflection) of the key's bytes modulo 16384 — of the part between the first '{'
// and the next '}' when that part is not empty.

export const SLOTS = 16384;

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** CRC16/XMODEM of the UTF-8 bytes of `text` ("123456789" → 0x31C3). */
export function crc16(text: string): number {
  let crc = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return crc16Bytes(Buffer.from(text, 'utf8'));
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ c) & 0xff];
  }
  return crc;
}

function crc16Bytes(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc;
}

/** The cluster slot of a key, as `CLUSTER KEYSLOT` answers. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % SLOTS;
  }
  return crc16(key) % SLOTS;
}

let tags: string[] | null = null;

/**
 * A short tag (`m<n>`, the smallest such n) that hashes to `slot`. The table of all 16384 is built on first
 * use by trying m0, m1, … until every slot has one (about 180,000 tries: 28–34 ms measured here, so the
 * leased store builds it when it is made, not on its first claim).
 */
export function slotTag(slot: number): string {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) throw new RangeError(`slot ${slot} is not in [0, ${SLOTS})`);
  if (tags === null) {
    const found: string[] = new Array<string>(SLOTS);
    let left = SLOTS;
    for (let n = 0; left > 0; n++) {
      const tag = `m${n}`;
      const s = crc16(tag) % SLOTS;
      if (found[s] === undefined) {
        found[s] = tag;
        left--;
      }
    }
    tags = found;
  }
  return tags[slot];
}
