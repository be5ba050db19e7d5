// Ledger batch sizes and commit latency, kept in a SharedArrayBuffer the ledger thread writes and any
// HTTP thread reads for GET /metrics. One writer, so plain stores suffice.

const SIZE_BOUNDS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];
const SECONDS_BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

const BATCHES = 0;
const ORDERS = 1;
const SECONDS_SUM = 2;
const SIZE_AT = 3;
const SECONDS_AT = SIZE_AT + SIZE_BOUNDS.length + 1;
const LENGTH = SECONDS_AT + SECONDS_BOUNDS.length + 1;

export function createCommitStats(): SharedArrayBuffer {
  return new SharedArrayBuffer(LENGTH * 8);
}

export class CommitStatsWriter {
  private readonly v: Float64Array;
  constructor(sab: SharedArrayBuffer) {
    this.v = new Float64Array(sab);
  }
  record(orders: number, seconds: number): void {
    const v = this.v;
    v[BATCHES]++;
    v[ORDERS] += orders;
    v[SECONDS_SUM] += seconds;
    v[SIZE_AT + bucket(SIZE_BOUNDS, orders)]++;
    v[SECONDS_AT + bucket(SECONDS_BOUNDS, seconds)]++;
  }
}

function bucket(bounds: readonly number[], x: number): number {
  let i = 0;
  while (i < bounds.length && x > bounds[i]) i++;
  return i;
}

/** Prometheus text for the ledger's two histograms. */
export function renderCommitStats(sab: SharedArrayBuffer): string {
  const v = new Float64Array(sab);
  return (
    histogram('flashsale_ledger_batch_size', 'Orders per ledger commit.', SIZE_BOUNDS, v, SIZE_AT, v[ORDERS], v[BATCHES]) +
    histogram('flashsale_ledger_commit_seconds', 'Time to commit one ledger batch, fsync included.', SECONDS_BOUNDS, v, SECONDS_AT, v[SECONDS_SUM], v[BATCHES])
  );
}

function histogram(name: string, help: string, bounds: readonly number[], v: Float64Array, at: number, sum: number, count: number): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`;
  let cumulative = 0;
  for (let i = 0; i < bounds.length; i++) {
    cumulative += v[at + i];
    out += `${name}_bucket{le="${bounds[i]}"} ${cumulative}\n`;
  }
  cumulative += v[at + bounds.length];
  out += `${name}_bucket{le="+Inf"} ${cumulative}\n${name}_sum ${sum}\n${name}_count ${count}\n`;
  return out;
}
