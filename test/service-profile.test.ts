// bench/service-profile.ts: a hand-made V8 CPU profile whose samples land in known categories, so the
// table `npm run bench:service -- --profile` prints is summed the way its docs say (leaf-first rules,
// idle left out, only the measured window, the ledger thread's port traffic on its own side).
import { describe, expect, it } from 'vitest';
import { summariseProfile, type CpuProfile } from '../bench/service-profile.ts';

const ROOT = '/repo';
function profile(frames: Array<{ functionName: string; url: string }>, samples: number[], deltas: number[]): CpuProfile {
  // nodes[0] is the root; every other node is its child (flat tree), except where the test chains them.
  return {
    nodes: frames.map((callFrame, i) => ({ id: i + 1, callFrame, children: i === 0 ? frames.slice(1).map((_, j) => j + 2) : [] })),
    samples,
    timeDeltas: deltas,
    startTime: 0,
    endTime: deltas.reduce((a, b) => a + b, 0),
  };
}

describe('summariseProfile', () => {
  it('sums each sample by the category of its innermost known frame, leaving idle out', () => {
    const p = profile(
      [
        { functionName: '(root)', url: '' },
        { functionName: 'readBody', url: `file://${ROOT}/src/service/body.ts` },
        { functionName: 'take', url: `file://${ROOT}/src/stock/counter.ts` },
        { functionName: '(idle)', url: '' },
        { functionName: 'start', url: `file://${ROOT}/src/service/http-thread.ts` },
        { functionName: '(garbage collector)', url: '' },
      ],
      // samples: body, body, take, idle, gc, http-thread (an unattributed frame of the role's file)
      [2, 2, 3, 4, 6, 5],
      [10, 10, 10, 10, 10, 10],
    );
    const s = summariseProfile(p);
    expect(s.role).toBe('http');
    expect(s.busyUs.get('body read + JSON parse')).toBe(20);
    expect(s.busyUs.get('stock take')).toBe(10);
    expect(s.busyUs.get('garbage collection')).toBe(10);
    expect(s.busyUs.get('other (V8, native, unattributed)')).toBe(10);
    const total = [...s.busyUs.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(50); // the idle sample is not busy time
  });

  it('counts a native frame by the project frame that called it (JSON.parse under body.ts is the body)', () => {
    const p: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [2] },
        { id: 2, callFrame: { functionName: 'readBody', url: `file://${ROOT}/src/service/body.ts` }, children: [3] },
        { id: 3, callFrame: { functionName: 'parse', url: '' }, children: [] },
      ],
      samples: [3, 3],
      timeDeltas: [5, 5],
      startTime: 0,
      endTime: 10,
    };
    expect(summariseProfile(p).busyUs.get('body read + JSON parse')).toBe(10);
  });

  it('keeps only samples inside the measured window', () => {
    const p = profile(
      [
        { functionName: '(root)', url: '' },
        { functionName: 'readBody', url: `file://${ROOT}/src/service/body.ts` },
      ],
      [2, 2, 2, 2],
      [100, 100, 100, 100], // samples at t = 100, 200, 300, 400
    );
    expect(summariseProfile(p, 150, 350).busyUs.get('body read + JSON parse')).toBe(200);
  });

  it('puts port traffic on the ledger thread on the ledger side of the hand-off', () => {
    const p = profile(
      [
        { functionName: '(root)', url: '' },
        { functionName: 'onMessage', url: `file://${ROOT}/src/service/ledger-thread.ts` },
        { functionName: 'postMessage', url: '' },
      ],
      [3, 3, 2],
      [7, 7, 7],
    );
    const s = summariseProfile(p);
    expect(s.role).toBe('ledger');
    expect(s.busyUs.get('ledger: messages in/out (ledger thread)')).toBe(21);
    expect(s.busyUs.has('ledger hand-off (HTTP thread side)')).toBe(false);
  });
});
