// Piscina entry of a load worker: one task is one worker's whole share of a run.
import { LoadEngine, type WorkerTask } from '../src/load/engine.ts';
import type { LoadResult } from '../src/result/types.ts';

export default function loadWorker(task: WorkerTask): Promise<LoadResult> {
  return new LoadEngine(task).run();
}
