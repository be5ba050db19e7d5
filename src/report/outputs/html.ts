// report.html: the self-contained page (see ../html/report-page.ts).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildReportHtml } from '../html/report-page.ts';
import type { ReportOutput } from './output.ts';

export const html: ReportOutput = {
  name: 'report.html',
  async write(result, outDir) {
    const path = join(outDir, 'report.html');
    await writeFile(path, buildReportHtml(result));
    return [path];
  },
};
