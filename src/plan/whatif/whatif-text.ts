// The terminal view of a what-if: the model it rests on, then what the sale would do.
import { count, duration, ms } from '../adapter.ts';
import type { WhatIfReport } from './run-whatif.ts';

export function formatWhatIf(r: WhatIfReport): string {
  const p = r.prediction;
  const m = r.model;
  const lat = p.latency;
  const lines = [
    `  what-if: ${r.scenario.name}, simulated (not measured) from ${r.from.file}`,
    `  model................: ${count(r.instances)} instance(s) × ${count(m.serversPerInstance)} servers; servers from ${m.serversFrom}`,
    `  service time (mean)..: ${Object.entries(m.meanServiceMs).map(([s, v]) => `${s} ${ms(Number(v))} ms`).join(', ')}; queue timeout ${duration(m.queueTimeoutMs)}${m.queueLimitPerInstance === null ? '' : `, queue limit ${count(m.queueLimitPerInstance)} per instance`}`,
    `  crowd................: ${count(m.expectedBuyers)} buyers (${m.arrival.type}), ${count(m.stock)} units${m.stopOnSellOut ? ', stops at sell-out' : ''}`,
    '',
    `  sell-out time........: ${p.sellOutMs === null ? `not sold out (${count(p.unitsSold)} of ${count(p.stock)} sold)` : duration(p.sellOutMs)}`,
    `  buyers...............: ${count(p.buyers.arrived)} came, ${count(p.buyers.succeeded)} bought, ${count(p.buyers.soldOut)} sold out, ${count(p.buyers.rejected)} refused, ${count(p.buyers.gaveUp)} gave up`,
    `  requests.............: ${count(p.requests.sent)} sent, ${count(p.requests.timedOut)} timed out in the queue, ${count(p.requests.shed)} shed, ${count(p.requests.retries)} retries; longest queue ${count(p.maxQueue)}`,
    `  latency (corrected)..: p50 ${ms(lat.p50)} · p90 ${ms(lat.p90)} · p99 ${ms(lat.p99)} · p99.9 ${ms(lat.p999)} · max ${ms(lat.max)} ms (${count(lat.count)} answers)`,
    `  simulated............: ${duration(p.endMs)} of sale in ${duration(p.wallMs)} (${count(p.events)} events)`,
  ];
  if (r.sizing) {
    const s = r.sizing;
    lines.push(
      s.instances === null
        ? `  instances for p99 ≤ ${ms(s.targetP99Ms)} ms: more than ${count(Math.max(...s.tried.map((t) => t.instances)))} (not met at any count tried)`
        : `  instances for p99 ≤ ${ms(s.targetP99Ms)} ms: ${count(s.instances)} (p99 ${ms(Number(s.p99Ms))} ms); tried ${s.tried.map((t) => `${t.instances} → ${ms(t.p99Ms)} ms`).join(', ')}`,
    );
  }
  return lines.join('\n');
}
