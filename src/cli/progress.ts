// Live progress of a run on the terminal: one redrawn line on a TTY, a plain line every second
// otherwise (CI logs, pipes), nothing when quiet. Elapsed and time left (to the cap or the expected
// sell-out), sends per second, answers, units sold with a bar that fills as they sell, live p99, and a
// loud warning line the moment the generator falls behind its schedule (its lateness over the limit
// the judge will hold it to), so a generator-bound run is never spent in silence.
import type { LoadProgress } from '../load/index.ts';
import type { LiveSnapshot } from '../contract/live.ts';
import { count, duration, ms, rate } from '../common/format.ts';

export interface ProgressReporter {
  update(p: LoadProgress, live?: LiveSnapshot): void;
  done(): void;
}

const BAR_WIDTH = 20;
const PLAIN_EVERY_MS = 1000;

/** The progress line's text (without the TTY's carriage return). */
export function progressLine(p: LoadProgress, live: LiveSnapshot | undefined, totalStock: number | null, perSec: number, bar: boolean): string {
  const last = live?.points.at(-1);
  const time = live?.remainingMs == null ? `${(p.elapsedMs / 1000).toFixed(1)}s` : `${(p.elapsedMs / 1000).toFixed(1)}s, ~${duration(live.remainingMs)} left${live.remainingBy === 'sell-out' ? ' to sell-out' : ''}`;
  const parts = [time, `${rate(perSec)} req/s`, `${count(p.successes)} ok`];
  if (p.soldOuts) parts.push(`${count(p.soldOuts)} sold out`);
  if (p.errors) parts.push(`${count(p.errors)} refused/errors`);
  if (totalStock !== null) {
    const sold = Math.min(totalStock, p.unitsAcknowledged);
    const filled = totalStock > 0 ? Math.round((BAR_WIDTH * sold) / totalStock) : BAR_WIDTH;
    const b = bar ? `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ` : '';
    parts.push(`${b}sold ${count(sold)}/${count(totalStock)}`);
  }
  if (last?.p99 != null) parts.push(`p99 ${ms(last.p99)} ms`);
  if (live?.generatorBehind) parts.push('GENERATOR BEHIND');
  return parts.join('  ');
}

function behindWarning(live: LiveSnapshot): string {
  const last = live.points.at(-1);
  return `WARNING: GENERATOR BEHIND its schedule at ${(live.elapsedMs / 1000).toFixed(1)} s: sends ${last?.latenessP99 == null ? '' : `${ms(last.latenessP99)} ms `}late at p99, limit ${ms(live.latenessLimitMs)} ms. ` +
    'The generator, not the target, is setting the pace; if it lasts the run is inconclusive (exit 4). Add --workers, or run on a quieter machine.';
}

export function createProgressReporter(options: { stream: NodeJS.WriteStream; totalStock: number | null; quiet?: boolean }): ProgressReporter {
  const { stream, totalStock } = options;
  if (options.quiet) return { update() {}, done() {} };
  const tty = stream.isTTY === true;
  let last: LoadProgress | null = null;
  let lastPlainMs = -Infinity;
  let drawn = false;
  let wasBehind = false;

  return {
    update(p, live) {
      // Said once when it starts (and again if it comes back after recovering), on its own line.
      const behind = live?.generatorBehind === true;
      if (behind && !wasBehind && live) stream.write(`${tty && drawn ? '\r\x1b[K' : ''}${behindWarning(live)}\n`);
      wasBehind = behind;
      // Sends per second over the last update, so a stall shows at once rather than averaged away.
      const dt = last ? p.elapsedMs - last.elapsedMs : p.elapsedMs;
      const perSec = dt > 0 ? ((p.sent - (last?.sent ?? 0)) * 1000) / dt : 0;
      if (tty) {
        stream.write(`\r${progressLine(p, live, totalStock, perSec, true)}\x1b[K`);
        drawn = true;
      } else if (p.elapsedMs - lastPlainMs >= PLAIN_EVERY_MS) {
        stream.write(`${progressLine(p, live, totalStock, perSec, false)}\n`);
        lastPlainMs = p.elapsedMs;
      } else return; // keep the rate over the printed interval
      last = p;
    },
    done() {
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}
