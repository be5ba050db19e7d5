// result.json: the whole run, versioned (schemas/result.schema.json), histograms kept encoded so runs
// can be merged and compared exactly later.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunResult } from '../../contract/result.ts';
import type { ReportOutput } from './output.ts';

/** One space of indent: still readable, and smaller than two for the long interval series. */
export function resultJsonText(result: RunResult): string {
  return `${JSON.stringify(result, null, 1)}\n`;
}

export const resultJson: ReportOutput = {
  name: 'result.json',
  async write(result, outDir) {
    const path = join(outDir, 'result.json');
    await writeFile(path, resultJsonText(result));
    return [path];
  },
};
