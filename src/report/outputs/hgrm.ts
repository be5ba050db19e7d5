// <step>.corrected.hgrm / <step>.uncorrected.hgrm: HdrHistogram's percentile distribution text, in
// milliseconds, which HdrHistogram's plotter (hdrhistogram.github.io/HdrHistogram/plotFiles.html)
// and other tools read as is. A k6 result has the uncorrected file only.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeHistogram } from '../../common/histogram.ts';
import { hasCorrectedLatency, stepsOf } from '../latency.ts';
import type { ReportOutput } from './output.ts';

/** Five reporting points per halving of the remaining percentile distance, HdrHistogram's default. */
const TICKS_PER_HALF_DISTANCE = 5;
/** Histograms hold µs; .hgrm files are read in ms. */
const US_PER_MS = 1000;

export function hgrmText(encoded: string): string {
  return decodeHistogram(encoded).outputPercentileDistribution(TICKS_PER_HALF_DISTANCE, US_PER_MS);
}

export const hgrm: ReportOutput = {
  name: 'hgrm',
  async write(result, outDir) {
    const paths: string[] = [];
    for (const step of stepsOf(result)) {
      const all = result.latency[step]!.all; // stepsOf lists only the steps with latency
      for (const kind of ['corrected', 'uncorrected'] as const) {
        if (all[kind] === '') continue; // no samples: nothing to plot
        if (kind === 'corrected' && !hasCorrectedLatency(result)) continue; // no file claims what a k6 run lacks
        const path = join(outDir, `${step}.${kind}.hgrm`);
        await writeFile(path, hgrmText(all[kind]));
        paths.push(path);
      }
    }
    return paths;
  },
};
