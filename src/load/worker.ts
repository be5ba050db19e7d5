// Piscina entry of a load worker: one task is one worker's whole share of a run.
import { LoadEngine, type WorkerTask } from './engine.ts';
import type { LoadResult } from '../contract/result.ts';

export default function loadWorker(task: WorkerTask): Promise<LoadResult> {
  return new LoadEngine(task).run();
}
