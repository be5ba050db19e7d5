// Gunther's Universal Scalability Law fitted to sustainable rates measured at several concurrency
// levels (service threads, instances):
//
//   X(N) = λN / (1 + σ(N − 1) + κN(N − 1))
//
// σ is contention (the serial share: queueing for something shared), κ coherency (the cost of keeping
// shared state consistent, growing with every pair of workers), λ the rate of one worker alone. With
// κ > 0 throughput peaks at N* = sqrt((1 − σ) / κ) and falls after it: adding instances stops paying.
//
// Fitted by least squares on X itself (Levenberg–Marquardt, σ and κ kept ≥ 0), started from the
// linear fit of N/X = 1/λ + (σ/λ)(N − 1) + (κ/λ)N(N − 1), which is exact for exact data.

export interface UslPoint {
  /** Concurrency level: threads, instances. */
  n: number;
  /** Throughput measured at that level (arrivals/s). */
  x: number;
}

export interface UslFit {
  sigma: number;
  kappa: number;
  lambda: number;
  /** Root mean square of x − X(n) over the points, in x's unit. */
  rmse: number;
  /** rmse / mean x. */
  relativeError: number;
  /** Coefficient of determination (1 = the curve goes through every point); null with one point. */
  r2: number | null;
  /** Where throughput peaks, null when κ = 0 (no retrograde region in the model). */
  peak: { n: number; x: number } | null;
  /** Reasons not to lean on the fit: too few points, a degenerate set, a peak far beyond the data. */
  warnings: string[];
  points: Array<UslPoint & { fitted: number }>;
}

/** The model's throughput at n. */
export function uslThroughput(n: number, p: { sigma: number; kappa: number; lambda: number }): number {
  return (p.lambda * n) / (1 + p.sigma * (n - 1) + p.kappa * n * (n - 1));
}

/** N* = sqrt((1 − σ)/κ), or null when the model has no peak. */
export function uslPeakN(sigma: number, kappa: number): number | null {
  if (!(kappa > 0) || sigma >= 1) return null;
  return Math.sqrt((1 - sigma) / kappa);
}

/** Solves A x = b (small, dense) by Gaussian elimination with partial pivoting; null if singular. */
function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    const scale = Math.max(...m.map((row) => Math.abs(row[col])));
    if (Math.abs(m[pivot][col]) <= 1e-12 * (scale || 1)) return null;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r][col] / m[col][col];
      for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/** Linear least squares of y on the given basis functions of n, some coefficients pinned to 0. */
function linearFit(points: UslPoint[], free: boolean[]): number[] | null {
  const basis = [(_n: number) => 1, (n: number) => n - 1, (n: number) => n * (n - 1)];
  const used = basis.map((f, i) => (free[i] ? i : -1)).filter((i) => i >= 0);
  const ata = used.map(() => used.map(() => 0));
  const aty = used.map(() => 0);
  for (const p of points) {
    const y = p.n / p.x;
    const row = used.map((i) => basis[i](p.n));
    for (let r = 0; r < used.length; r++) {
      aty[r] += row[r] * y;
      for (let c = 0; c < used.length; c++) ata[r][c] += row[r] * row[c];
    }
  }
  const coef = solve(ata, aty);
  if (!coef) return null;
  const out = [0, 0, 0];
  used.forEach((i, k) => (out[i] = coef[k]));
  return out;
}

/** The linear start, with σ and κ kept ≥ 0 by pinning a negative one to 0 and fitting again. */
function linearStart(points: UslPoint[], freeSigma: boolean, freeKappa: boolean): { sigma: number; kappa: number; lambda: number } {
  const tries: boolean[][] = [
    [true, freeSigma, freeKappa],
    [true, freeSigma, false],
    [true, false, freeKappa],
    [true, false, false],
  ];
  for (const free of tries) {
    const c = linearFit(points, free);
    if (!c || !(c[0] > 0) || c[1] < 0 || c[2] < 0) continue;
    return { lambda: 1 / c[0], sigma: c[1] / c[0], kappa: c[2] / c[0] };
  }
  const lambda = points.reduce((s, p) => s + p.x / p.n, 0) / points.length;
  return { lambda, sigma: 0, kappa: 0 };
}

function sumSquares(points: UslPoint[], p: { sigma: number; kappa: number; lambda: number }): number {
  return points.reduce((s, q) => s + (q.x - uslThroughput(q.n, p)) ** 2, 0);
}

/** Levenberg–Marquardt on (λ, σ, κ); pinned parameters stay where they are. */
function refine(points: UslPoint[], start: { sigma: number; kappa: number; lambda: number }, free: [boolean, boolean, boolean]) {
  let p = { ...start };
  let cost = sumSquares(points, p);
  let mu = 1e-3;
  for (let iter = 0; iter < 500; iter++) {
    const jtj = [0, 1, 2].map(() => [0, 0, 0]);
    const jtr = [0, 0, 0];
    for (const q of points) {
      const d = 1 + p.sigma * (q.n - 1) + p.kappa * q.n * (q.n - 1);
      const f = (p.lambda * q.n) / d;
      const g = [q.n / d, (-p.lambda * q.n * (q.n - 1)) / (d * d), (-p.lambda * q.n * q.n * (q.n - 1)) / (d * d)].map((v, i) => (free[i] ? v : 0));
      const r = q.x - f;
      for (let i = 0; i < 3; i++) {
        jtr[i] += g[i] * r;
        for (let j = 0; j < 3; j++) jtj[i][j] += g[i] * g[j];
      }
    }
    let improved = false;
    for (let k = 0; k < 20 && !improved; k++) {
      const a = jtj.map((row, i) => row.map((v, j) => (i === j ? (free[i] ? v * (1 + mu) + 1e-30 : 1) : free[i] && free[j] ? v : 0)));
      const step = solve(a, jtr.map((v, i) => (free[i] ? v : 0)));
      if (!step) {
        mu *= 10;
        continue;
      }
      const next = {
        lambda: Math.max(1e-12, p.lambda + step[0]),
        sigma: Math.max(0, p.sigma + step[1]),
        kappa: Math.max(0, p.kappa + step[2]),
      };
      const nextCost = sumSquares(points, next);
      if (nextCost < cost) {
        const gain = cost - nextCost;
        p = next;
        cost = nextCost;
        mu = Math.max(1e-12, mu / 10);
        improved = true;
        if (gain <= 1e-15 * (cost + 1e-300)) return p;
      } else mu *= 10;
    }
    if (!improved) break;
  }
  return p;
}

export function fitUsl(input: readonly UslPoint[]): UslFit {
  const points = input.filter((p) => Number.isFinite(p.n) && p.n > 0 && Number.isFinite(p.x) && p.x > 0).map((p) => ({ n: p.n, x: p.x }));
  if (points.length === 0) throw new RangeError('fitUsl needs at least one point with n > 0 and x > 0');
  const warnings: string[] = [];
  const dropped = input.length - points.length;
  if (dropped > 0) warnings.push(`${dropped} point(s) without a positive rate were left out of the fit`);
  const levels = new Set(points.map((p) => p.n)).size;
  // σ and κ can only be told apart with three levels or more; with two, κ is taken as 0 (Amdahl's law).
  const freeSigma = levels >= 2;
  const freeKappa = levels >= 3;
  if (levels < 3) {
    warnings.push(
      levels === 1
        ? 'only one concurrency level: nothing about scaling can be fitted (σ and κ set to 0)'
        : 'only two concurrency levels: κ cannot be told from σ, so κ is set to 0 (no peak can be predicted)',
    );
  }
  if (points.length < 4) warnings.push(`only ${points.length} point(s) for a 3-parameter model: the fit error says little; measure at 4 or more levels`);
  const start = linearStart(points, freeSigma, freeKappa);
  const p = refine(points, start, [true, freeSigma, freeKappa]);
  const fitted = points.map((q) => ({ ...q, fitted: uslThroughput(q.n, p) }));
  const sse = sumSquares(points, p);
  const mean = points.reduce((s, q) => s + q.x, 0) / points.length;
  const sst = points.reduce((s, q) => s + (q.x - mean) ** 2, 0);
  const rmse = Math.sqrt(sse / points.length);
  const peakN = uslPeakN(p.sigma, p.kappa);
  const maxN = Math.max(...points.map((q) => q.n));
  if (peakN !== null && peakN > 4 * maxN) warnings.push(`the predicted peak (N* ≈ ${peakN.toFixed(1)}) is far beyond the largest level measured (${maxN}): an extrapolation`);
  if (p.sigma >= 1) warnings.push('σ ≥ 1: adding workers did not raise throughput at all (a shared bottleneck, or every level stopped by the same limit)');
  return {
    sigma: p.sigma,
    kappa: p.kappa,
    lambda: p.lambda,
    rmse,
    relativeError: mean > 0 ? rmse / mean : 0,
    r2: points.length > 1 && sst > 0 ? 1 - sse / sst : null,
    peak: peakN === null ? null : { n: peakN, x: uslThroughput(peakN, p) },
    warnings,
    points: fitted,
  };
}
