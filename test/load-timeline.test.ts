// The engine's timeline: this worker's share of the arrivals in order, journeys due later by due time,
// when new buyers stop, until when the rest may finish, and which arrivals were never started.
import { describe, expect, it } from 'vitest';
import { Timeline } from '../src/load/timeline.ts';

const rate = { type: 'constant-arrival-rate' as const, rate: 10, timeUnitMs: 1000, durationMs: 1000 };

describe('timeline', () => {
  it('gives each worker every n-th arrival, in order, with its buyer number', () => {
    const t = new Timeline<{ dueMs: number }>(rate, 1, 1, 2);
    t.start();
    const seen: Array<[number, number]> = [];
    while (t.nextArrivalMs !== Infinity) {
      seen.push([t.arrivalIndex(), t.nextArrivalMs]);
      t.advance();
    }
    expect(seen.map(([i]) => i)).toEqual([1, 3, 5, 7, 9]);
    expect(seen.map(([, ms]) => ms)).toEqual([100, 300, 500, 700, 900]);
    expect(t.closed).toBe(false);
  });

  it('hands back journeys waiting out a think time earliest first', () => {
    const t = new Timeline<{ dueMs: number; id: string }>(rate, 1, 0, 1);
    t.later({ dueMs: 30, id: 'c' });
    t.later({ dueMs: 10, id: 'a' });
    t.later({ dueMs: 20, id: 'b' });
    expect(t.laterMs()).toBe(10);
    expect([t.takeLater().id, t.takeLater().id]).toEqual(['a', 'b']);
    const rest: string[] = [];
    t.drainLater((j) => rest.push(j.id));
    expect(rest).toEqual(['c']);
    expect(t.laterMs()).toBe(Infinity);
  });

  it('stops accepting at the schedule end or a stop, and gives in-flight journeys the graceful stop', () => {
    const closed = new Timeline<{ dueMs: number }>({ type: 'constant-vus', vus: 2, durationMs: 5000 }, 1, 0, 1);
    expect(closed.closed).toBe(true);
    expect(closed.scheduleEndMs).toBe(5000);
    closed.scheduleDone(4000, 1000);
    expect([closed.accepting, closed.drainUntilMs]).toEqual([false, 6000]);
    const open = new Timeline<{ dueMs: number }>(rate, 1, 0, 1);
    open.stopAt(300, 2000);
    open.scheduleDone(900, 100); // already stopped: the earlier limit stands
    expect([open.accepting, open.drainUntilMs]).toEqual([false, 2300]);
  });

  it('counts the arrivals whose time had come but were never started', () => {
    const t = new Timeline<{ dueMs: number }>(rate, 1, 0, 1);
    t.start();
    expect(t.skipDueBy(450)).toBe(5); // 0, 100, 200, 300, 400
    expect(t.nextArrivalMs).toBe(500);
  });
});
