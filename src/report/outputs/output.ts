// One file per output, as k6 has one file per executor: adding an output is adding a file here and
// one line to OUTPUTS in ../index.ts.
import type { RunResult } from '../../contract/result.ts';

export interface ReportOutput {
  name: string;
  /** Writes this output's files under outDir; returns their paths. */
  write(result: RunResult, outDir: string): Promise<string[]>;
}
