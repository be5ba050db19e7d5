function make(t0 = 1_700_000_000_000, n: number) {
  let end = 0;
  for (let i = 0; i < n; i++) end = Math.max(end, i * 0.15 + 1);
  return { t0EpochMs: t0, durationMs: end, firstSendMs: 0, lastAckMs: end, stopReason: 'completed' };
}
for (let k = 0; k < 3; k++) make(undefined, 20000);
const a = make(undefined, 100);
const b = make(a.t0EpochMs + 1000, 100);
console.log(process.version, a.t0EpochMs, b.t0EpochMs, a.t0EpochMs === 1_700_000_000_000 ? 'ok' : 'MUTATED');
