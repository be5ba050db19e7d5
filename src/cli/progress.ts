// Live progress of a run on the terminal: one redrawn bar line on a TTY (elapsed, sends per second,
// successes, stock left), a plain line every second otherwise (CI logs, pipes), nothing when quiet.
import type { LoadProgress } from '../load/index.ts';
import { count, rate } from '../shared/format.ts';

export interface ProgressReporter {
  update(p: LoadProgress): void;
  done(): void;
}

const BAR_WIDTH = 20;
const PLAIN_EVERY_MS = 1000;

export function createProgressReporter(options: { stream: NodeJS.WriteStream; totalStock: number | null; quiet?: boolean }): ProgressReporter {
  const { stream, totalStock } = options;
  if (options.quiet) return { update() {}, done() {} };
  const tty = stream.isTTY === true;
  let last: LoadProgress | null = null;
  let lastPlainMs = -Infinity;
  let drawn = false;

  const line = (p: LoadProgress): string => {
    // Sends per second over the last update, so a stall shows at once rather than averaged away.
    const dt = last ? p.elapsedMs - last.elapsedMs : p.elapsedMs;
    const perSec = dt > 0 ? ((p.sent - (last?.sent ?? 0)) * 1000) / dt : 0;
    const parts = [`${(p.elapsedMs / 1000).toFixed(1)}s`, `${rate(perSec)} req/s`, `${count(p.successes)} ok`];
    if (p.soldOuts) parts.push(`${count(p.soldOuts)} sold out`);
    if (p.errors) parts.push(`${count(p.errors)} errors`);
    if (totalStock !== null) {
      const left = Math.max(0, totalStock - p.unitsAcknowledged);
      const filled = totalStock > 0 ? Math.round((BAR_WIDTH * (totalStock - left)) / totalStock) : BAR_WIDTH;
      const bar = tty ? `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ` : '';
      parts.push(`${bar}stock left ${count(left)}/${count(totalStock)}`);
    }
    return parts.join('  ');
  };

  return {
    update(p) {
      if (tty) {
        stream.write(`\r${line(p)}\x1b[K`);
        drawn = true;
      } else if (p.elapsedMs - lastPlainMs >= PLAIN_EVERY_MS) {
        stream.write(`${line(p)}\n`);
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
