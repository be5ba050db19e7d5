// A lock built on Atomics.wait/notify: Drepper's three-state futex mutex ("Futexes Are Tricky", mutex 2).
// 0 = free, 1 = held, 2 = held and someone may be sleeping. Unlock only calls notify when state was 2, so
// an uncontended lock/unlock is two atomic operations. We spin briefly before sleeping because critical
// sections here are a few instructions long and a sleep/wake round trip costs microseconds.
// Atomics.wait blocks the calling thread: fine in Node (main thread included), not on a browser main thread.

const SPINS = 100;

export function lock(words: Int32Array, index: number): void {
  let state = Atomics.compareExchange(words, index, 0, 1);
  if (state === 0) return;
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(words, index) === 0) {
      state = Atomics.compareExchange(words, index, 0, 1);
      if (state === 0) return;
    }
  }
  if (state !== 2) state = Atomics.exchange(words, index, 2);
  while (state !== 0) {
    Atomics.wait(words, index, 2);
    state = Atomics.exchange(words, index, 2);
  }
}

export function unlock(words: Int32Array, index: number): void {
  if (Atomics.sub(words, index, 1) !== 1) {
    Atomics.store(words, index, 0);
    Atomics.notify(words, index, 1);
  }
}
