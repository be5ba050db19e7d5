// Cluster hash slots computed in JS (src/stores/redis/slots.ts), and the slot markers of redis-leased
// (keys.ts): each marker shares its slot with the users' keys it stands for. Against Redis's own
// CLUSTER KEYSLOT: test/stores-cluster.test.ts.
import { describe, expect, it } from 'vitest';
import { crc16, keySlot, SLOTS, slotTag } from '../src/stores/redis/slots.ts';
import { slotMarkKey, userKeys, userMarkKey } from '../src/stores/redis/keys.ts';

describe('cluster hash slots', () => {
  it('CRC16/XMODEM: the spec\'s check value, and the empty string', () => {
    expect(crc16('123456789')).toBe(0x31c3);
    expect(keySlot('123456789')).toBe(12739);
    expect(crc16('')).toBe(0);
  });

  it('keySlot follows the spec\'s hash tag rules (known CLUSTER KEYSLOT answers)', () => {
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('somekey')).toBe(11058);
    // The tag is the part between the first '{' and the next '}', when not empty.
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('{user1000}.followers')).toBe(keySlot('{user1000}.following'));
    expect(keySlot('foo{}{bar}')).toBe(crc16('foo{}{bar}') % SLOTS);
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar'));
    expect(keySlot('no{close')).toBe(crc16('no{close') % SLOTS);
  });

  it('slotTag: a short tag for every slot, each hashing to its slot; computed once', () => {
    const started = performance.now();
    const seen = new Set<string>();
    for (let slot = 0; slot < SLOTS; slot++) {
      const tag = slotTag(slot);
      expect(tag).toMatch(/^m\d+$/);
      seen.add(tag);
      if (keySlot(`x:{${tag}}:y`) !== slot) expect.fail(`tag ${tag} of slot ${slot} hashes to ${keySlot(`x:{${tag}}:y`)}`);
    }
    expect(seen.size).toBe(SLOTS);
    expect(() => slotTag(SLOTS)).toThrow(RangeError);
    expect(() => slotTag(-1)).toThrow(RangeError);
    expect(performance.now() - started, 'the table, built once').toBeLessThan(5000);
  });

  it("a user's marker is in the slot of the user's count and keys, whatever the user id and epoch", () => {
    for (const user of ['u1', 'alice', 'a}b', 'a{b}c', 'é-ü', '', 'x'.repeat(200)]) {
      const mark = userMarkKey('flashsale:t', 7, user);
      for (const epoch of [1, 2, 99]) {
        const k = userKeys('flashsale:t', 7, user, epoch);
        expect(keySlot(mark), `${user} e${epoch}`).toBe(keySlot(k.units));
        expect(keySlot(k.keys)).toBe(keySlot(k.units));
      }
    }
    expect(slotMarkKey('flashsale:t', 7, 12739)).toBe(`flashsale:t:{${slotTag(12739)}}:s7:mark`);
  });
});
