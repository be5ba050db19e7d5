// The 100 ms interval series of one recorder. Buckets are filled in time order (times only move
// forward in a worker), so only the current bucket's latency histogram is live: when time moves past
// it, it is encoded and reset. Memory is a few numbers per bucket, whatever the request rate.
import type { IntervalSeries } from '../contract/result.ts';
import { encodeHistogram } from '../common/histogram.ts';
import { StagedHistogram } from './staged-histogram.ts';

export const INTERVAL_MS = 100;
/** SKUs with a series of their own; sales of any further SKU add up under OTHER_SKUS. */
export const MAX_SKU_SERIES = 50;
export const OTHER_SKUS = '(other SKUs)';

/** Keys are SKU ids from scenarios ("constructor", "__proto__" are ids too): no prototype to meet. */
function nameless(): Record<string, number[]> {
  return Object.create(null) as Record<string, number[]>; // an empty record with no inherited keys
}

export class IntervalRecorder {
  readonly series: IntervalSeries;
  readonly #periodMs: number;
  readonly #histogram = new StagedHistogram();
  /** Bucket whose latency histogram is live; earlier ones are encoded in series.latency. */
  #live = 0;
  /** TCP connections open now: a new bucket starts with it (connectionsOpen is a level, not a count). */
  #open = 0;
  /** statusCodes' rows by code (0–999), the same arrays. */
  readonly #statusRows: Array<number[] | undefined> = new Array<number[] | undefined>(1000).fill(undefined);

  constructor(periodMs = INTERVAL_MS) {
    this.#periodMs = periodMs;
    this.series = { periodMs, sent: [], completed: [], successes: [], soldOuts: [], errors: [], stockTaken: [], latency: [], rejected: [], latenessMaxMs: [], statusCodes: nameless(), soldBySku: nameless(), errorsByKind: nameless(), retries: [], connectionsOpen: [], connects: [], disconnects: [] };
  }

  /** Bucket for a time in ms from t0 (times before t0 count in the first bucket). */
  bucket(msFromT0: number): number {
    const b = Math.floor(msFromT0 / this.#periodMs);
    const i = b > 0 ? b : 0;
    if (i >= this.series.sent.length) this.#grow(i + 1);
    return i;
  }

  sent(msFromT0: number): void {
    this.series.sent[this.bucket(msFromT0)]++;
  }

  /** How late a request sent at msFromT0 left (µs): the bucket keeps the worst. */
  lateness(msFromT0: number, us: number): void {
    const i = this.bucket(msFromT0);
    const ms = us / 1000;
    const s = this.series.latenessMaxMs!; // made in the constructor
    if (ms > s[i]) s[i] = ms;
  }

  /** An HTTP answer with this status code at msFromT0. */
  status(msFromT0: number, code: number): void {
    const i = this.bucket(msFromT0);
    // Per answer: the code's row found by index, not by a string made from the code each time.
    let s = code >= 0 && code < 1000 ? this.#statusRows[code] : undefined;
    if (s === undefined) {
      const codes = this.series.statusCodes!; // made in the constructor
      s = codes[String(code)] ??= [];
      if (code >= 0 && code < 1000) this.#statusRows[code] = s;
    }
    while (s.length <= i) s.push(0);
    s[i]++;
  }

  /** Units of `sku` acknowledged at msFromT0. */
  sold(msFromT0: number, sku: string, units: number): void {
    const i = this.bucket(msFromT0);
    const bySku = this.series.soldBySku!; // made in the constructor
    const key = Object.hasOwn(bySku, sku) || Object.keys(bySku).length < MAX_SKU_SERIES ? sku : OTHER_SKUS;
    const s = (bySku[key] ??= []);
    while (s.length <= i) s.push(0);
    s[i] += units;
  }

  /** An answer (or failure) at msFromT0. kind: 0 success, 1 sold out, 2 error, 3 rejected (also
   * counted in errors, which holds both). */
  completed(msFromT0: number, kind: 0 | 1 | 2 | 3, correctedUs: number, unitsTaken: number): void {
    const i = this.bucket(msFromT0);
    const s = this.series;
    s.completed[i]++;
    if (kind === 0) s.successes[i]++;
    else if (kind === 1) s.soldOuts[i]++;
    else {
      s.errors[i]++;
      if (kind === 3) s.rejected![i]++; // made in the constructor
    }
    s.stockTaken[i] += unitsTaken;
    if (i > this.#live) this.#roll(i);
    this.#histogram.record(correctedUs);
  }

  /** A failure without an answer at msFromT0: counted as completed and as an error, with no latency. */
  failed(msFromT0: number): void {
    const i = this.bucket(msFromT0);
    this.series.completed[i]++;
    this.series.errors[i]++;
    if (i > this.#live) this.#roll(i);
  }

  /** Why an error or refusal at msFromT0 happened ('http_503', 'ECONNREFUSED', 'timeout', …): what a
   * fault's window shows (src/faults/impact.ts). Counted besides completed()/failed(). */
  errorKind(msFromT0: number, kind: string): void {
    const i = this.bucket(msFromT0);
    // bucket() grew every series to i + 1; a kind first seen now starts with zeros.
    const byKind = this.series.errorsByKind!; // set in the constructor
    const row = (byKind[kind] ??= new Array<number>(this.series.sent.length).fill(0));
    row[i]++;
  }

  /** A retry sent at msFromT0. */
  retry(msFromT0: number): void {
    this.series.retries![this.bucket(msFromT0)]++; // set in the constructor
  }

  /** A TCP connection opened (up) or closed at msFromT0. connectionsOpen holds the level at the end of
   * each bucket: this bucket's is the level after this change, later buckets start from it. */
  connection(msFromT0: number, up: boolean): void {
    const i = this.bucket(msFromT0);
    const s = this.series;
    if (up) {
      this.#open++;
      s.connects![i]++; // made in the constructor
    } else {
      if (this.#open > 0) this.#open--;
      s.disconnects![i]++; // as above
    }
    // Buckets are made in time order, so i is normally the last; any later one has no change of its own yet.
    const open = s.connectionsOpen!; // as above
    for (let b = i; b < open.length; b++) open[b] = this.#open;
  }

  /** Encodes the live bucket; call once at the end. */
  finish(endMsFromT0: number): IntervalSeries {
    this.bucket(endMsFromT0);
    this.#roll(this.series.latency.length);
    const s = this.series;
    const length = s.sent.length;
    for (const sparse of [s.statusCodes!, s.soldBySku!]) for (const list of Object.values(sparse)) while (list.length < length) list.push(0); // made in the constructor
    return s;
  }

  #roll(to: number): void {
    this.series.latency[this.#live] = encodeHistogram(this.#histogram.histogram);
    this.#histogram.reset();
    this.#live = to;
  }

  #grow(length: number): void {
    const s = this.series;
    while (s.sent.length < length) {
      s.sent.push(0);
      s.completed.push(0);
      s.successes.push(0);
      s.soldOuts.push(0);
      s.errors.push(0);
      s.stockTaken.push(0);
      s.latency.push('');
      s.rejected!.push(0); // made in the constructor
      s.latenessMaxMs!.push(0);
      s.retries?.push(0);
      s.connectionsOpen?.push(this.#open);
      s.connects?.push(0);
      s.disconnects?.push(0);
      for (const row of Object.values(s.errorsByKind ?? {})) row.push(0);
    }
  }
}
