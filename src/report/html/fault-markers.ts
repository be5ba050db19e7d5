// The scenario's faults on the report's time charts: each fault that hit is a shaded window from its
// hit to its heal (or to when it took effect), a failed one a line at its hit saying why. Read from
// the result's own records, so a report rebuilt from result.json shows them too.
import type { FaultRecordResult } from '../../contract/result.ts';

/** A mark on a time chart (the report's ReportMarker): at atMs from the sale's opening, until untilMs. */
export interface FaultMarker {
  atMs: number;
  label: string;
  untilMs?: number;
}

export function faultMarkers(faults: readonly FaultRecordResult[]): FaultMarker[] {
  const markers: FaultMarker[] = [];
  for (const f of faults) {
    if (f.hitMs === null) continue; // never reached: nothing happened to draw
    const untilMs = f.healedMs ?? f.inEffectMs ?? f.hitMs;
    const label = f.status === 'failed' ? `${f.description} (failed: ${f.problem ?? 'no reason'})` : f.description;
    markers.push(untilMs > f.hitMs ? { atMs: f.hitMs, label, untilMs } : { atMs: f.hitMs, label });
  }
  return markers;
}
