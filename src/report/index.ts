// The report module's public face: what `flashsale run`, `report`, `compare` and `merge` call.
import { mkdir } from 'node:fs/promises';
import type { RunResult } from '../contract/result.ts';
import { hgrm } from './outputs/hgrm.ts';
import { hlog } from './outputs/hlog.ts';
import { html } from './outputs/html.ts';
import type { ReportOutput } from './outputs/output.ts';
import { resultJson } from './outputs/result-json.ts';

export { formatSummary } from './summary.ts';
export { jsonSummary, type JsonSummary } from './json-summary.ts';
export { readResult, parseResult } from './read.ts';
export { buildReportHtml } from './html/report-page.ts';
export { buildLivePage, liveEvent } from './html/live-page.ts';
export { latencyLimits, latencyLimitsOf, type ReportMarker } from './html/report-charts.ts';

/** Every file a run leaves behind; result.json first so a failure later still keeps the data. */
export const OUTPUTS: readonly ReportOutput[] = [resultJson, html, hgrm, hlog];

/** Writes result.json, report.html, <step>.corrected|uncorrected.hgrm and latency.hlog; returns the paths. */
export async function writeRunOutputs(result: RunResult, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const paths: string[] = [];
  for (const output of OUTPUTS) paths.push(...(await output.write(result, outDir)));
  return paths;
}
