// latency.hlog: the per-interval corrected latency histograms (uncorrected for a k6 result, and its header
// says so) as an HdrHistogram interval log (format 1.3), for HistogramLogAnalyzer and HdrHistogram's log
// processors. Values are µs; the interval max column is written in ms.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HistogramLogWriter } from 'hdr-histogram-js';
import { decodeHistogram } from '../../common/histogram.ts';
import { hasCorrectedLatency } from '../latency.ts';
import type { RunResult } from '../../contract/result.ts';
import type { ReportOutput } from './output.ts';

export function hlogText(result: RunResult): string {
  let text = '';
  const writer = new HistogramLogWriter((chunk) => {
    text += chunk;
  });
  const { periodMs, latency } = result.intervals;
  const kind = hasCorrectedLatency(result) ? 'corrected latency' : 'uncorrected latency (measured by k6)';
  writer.outputComment(`[flashsale ${kind} of every step, per interval; values in microseconds]`);
  writer.outputLogFormatVersion();
  writer.outputStartTime(result.t0EpochMs);
  // Timestamps below are relative to BaseTime, as HdrHistogram's own writer does.
  writer.outputComment(`[BaseTime: ${(result.t0EpochMs / 1000).toFixed(3)} (seconds since epoch)]`);
  writer.outputLegend();
  latency.forEach((encoded, i) => {
    if (encoded === '') return; // an empty interval carries nothing; readers handle the gap
    const startSec = (i * periodMs) / 1000;
    writer.outputIntervalHistogram(decodeHistogram(encoded), startSec, startSec + periodMs / 1000, 1000);
  });
  return text;
}

export const hlog: ReportOutput = {
  name: 'latency.hlog',
  async write(result, outDir) {
    const path = join(outDir, 'latency.hlog');
    await writeFile(path, hlogText(result));
    return [path];
  },
};
