// A whole sale as a discrete-event simulation in virtual time: the crowd arrives on the scenario's
// schedule, each request waits in one FIFO queue for one of `servers` identical servers, is served for
// a time drawn from a measured histogram, and takes a unit if one is left. A request that waits longer
// than the queue timeout (or finds the queue full) is an error, retried with the scenario's backoff
// (bots with theirs) until the buyer gives up. Reserve → pay journeys hold their unit until paid,
// declined (it goes back) or expired (reservation TTL).
//
// Built for millions of buyers on one core: every buyer in flight is a slot in typed arrays (no object
// per buyer, no closure per event), events sit in typed-array binary heaps, the queue is a ring of
// ints, and latency goes into a staged HdrHistogram. Time advances from event to event, so a sale of
// ten minutes takes as long as its events do to process, not ten minutes.
import { createArrivals, encodeHistogram, mulberry32, percentilesMs, StagedHistogram, type ArrivalSpec, type LatencySummaryMs, type JourneyType, stepsOf } from '../adapter.ts';
import { Fifo } from './fifo.ts';
import { MinHeap } from './min-heap.ts';
import type { ServiceTimeSampler } from './service-time.ts';

export interface SimJourney {
  type: JourneyType;
  qty: number;
  thinkTime: { minMs: number; maxMs: number };
  /** Errors (queue timeout, queue full) are retried `max` times with full-jitter backoff. */
  retries: { max: number; baseMs: number; maxMs: number };
  /** Share of buyers that are bots: they do not think and retry `retries` times. */
  bots: { share: number; retries: number };
  /** Share of payments declined; the unit goes back. */
  declineRate: number;
  reservationTtlMs: number;
}

/** Service time per step and answer: a sold-out answer is cheaper than a sale. */
export interface SimServiceTimes {
  checkout?: { success: ServiceTimeSampler; soldOut: ServiceTimeSampler };
  reserve?: { success: ServiceTimeSampler; soldOut: ServiceTimeSampler };
  pay?: { success: ServiceTimeSampler; rejected: ServiceTimeSampler };
}

export interface SaleSimulation {
  /** The crowd's open arrival schedule (the scenario's, through the load engine's own generators). */
  arrival: ArrivalSpec;
  /** Units per SKU, and how often buyers ask for each. */
  stock: number[];
  skuWeights: number[];
  journey: SimJourney;
  /** Stop starting buyers once every SKU has answered sold out and no hold is outstanding. */
  stopOnSellOut: boolean;
  servers: number;
  /** A request waiting in the queue longer than this is an error (the buyer's timeout). */
  queueTimeoutMs: number;
  /** Requests waiting beyond this are refused at once (load shedding); Infinity for none. */
  queueLimit: number;
  serviceTimes: SimServiceTimes;
  seed: number;
  /** Bounds: the simulation stops by itself at this virtual time and after this many buyers. */
  maxSimMs?: number;
  maxBuyers?: number;
}

export interface SimulationResult {
  servers: number;
  buyers: { arrived: number; succeeded: number; soldOut: number; rejected: number; gaveUp: number };
  requests: { sent: number; success: number; soldOut: number; rejected: number; timedOut: number; shed: number; retries: number };
  stock: number;
  unitsSold: number;
  /** First request to the answer that sold the last unit, ms; null if stock was left. */
  sellOutMs: number | null;
  firstSendMs: number | null;
  lastAckMs: number | null;
  /** Virtual time of the last event, ms. */
  endMs: number;
  stoppedBy: 'done' | 'max-sim-time' | 'max-buyers';
  /** Corrected latency (from each request's intended start to its answer, timeouts included), ms. */
  latency: LatencySummaryMs;
  /** The same, HdrHistogram compressed base64 of µs. */
  latencyHistogram: string;
  /** Longest the queue got. */
  maxQueue: number;
  events: number;
  wallMs: number;
}

const CHECKOUT = 0;
const RESERVE = 1;
const PAY = 2;
const SUCCESS = 0;
const SOLD_OUT = 1;
const REJECTED = 2;

function checkModel(m: SaleSimulation): void {
  const issues: string[] = [];
  if (!(Number.isInteger(m.servers) && m.servers >= 1)) issues.push(`servers must be a whole number ≥ 1 (got ${m.servers})`);
  if (m.stock.length === 0 || m.stock.length !== m.skuWeights.length) issues.push('stock and skuWeights must have one entry per SKU');
  if (m.stock.some((s) => !(Number.isInteger(s) && s >= 0))) issues.push('stock must be whole numbers ≥ 0');
  if (!(m.skuWeights.reduce((a, b) => a + b, 0) > 0) || m.skuWeights.some((w) => !(w >= 0))) issues.push('skuWeights must be ≥ 0 and not all 0');
  if (!(m.queueTimeoutMs > 0)) issues.push(`queueTimeoutMs must be above 0 (got ${m.queueTimeoutMs})`);
  if (!(m.queueLimit >= 0)) issues.push(`queueLimit must be ≥ 0 (got ${m.queueLimit})`);
  if (!(Number.isInteger(m.journey.qty) && m.journey.qty >= 1)) issues.push(`journey.qty must be a whole number ≥ 1 (got ${m.journey.qty})`);
  const steps = stepsOf(m.journey.type);
  for (const s of steps) if (!m.serviceTimes[s as keyof SimServiceTimes]) issues.push(`no service times for the ${s} step`); // steps of a journey are keys of SimServiceTimes
  if (m.arrival.type === 'constant-vus') issues.push('arrival: constant-vus is a closed model; the what-if simulates open arrivals (a crowd that comes whatever the service does)');
  if (issues.length) throw new RangeError(`invalid sale simulation: ${issues.join('; ')}`);
}

export function simulateSale(m: SaleSimulation): SimulationResult {
  checkModel(m);
  const wallStart = performance.now();
  const rng = mulberry32(m.seed >>> 0);
  const arrivals = createArrivals(m.arrival, m.seed);
  const { journey } = m;
  const qty = journey.qty;
  const reservePay = journey.type === 'reserve-pay';
  const firstStep = reservePay ? RESERVE : CHECKOUT;
  const servers = m.servers;
  const timeout = m.queueTimeoutMs;
  const queueLimit = m.queueLimit;
  const maxSimMs = m.maxSimMs ?? Infinity;
  const maxBuyers = m.maxBuyers ?? Infinity;
  const thinkSpan = journey.thinkTime.maxMs - journey.thinkTime.minMs;
  const t = m.serviceTimes;
  const successTime = [t.checkout?.success, t.reserve?.success, t.pay?.success];
  const failTime = [t.checkout?.soldOut, t.reserve?.soldOut, t.pay?.rejected];

  // Stock per SKU, and the pick table.
  const skus = m.stock.length;
  const stock = Float64Array.from(m.stock);
  const totalStock = m.stock.reduce((a, b) => a + b, 0);
  const cumulative = new Float64Array(skus);
  let weightSum = 0;
  m.skuWeights.forEach((w, i) => (cumulative[i] = weightSum += w));
  /** Per SKU: answered sold out since its last unit came back (the stop-on-sell-out rule). */
  const soldOutMark = new Uint8Array(skus);
  let marked = 0;
  let holds = 0;

  // Buyers in flight, one slot each.
  let cap = 1024;
  let due = new Float64Array(cap); // intended start of the current attempt: corrected latency counts from here
  let holdUntil = new Float64Array(cap);
  let attempt = new Int32Array(cap);
  let step = new Uint8Array(cap);
  let sku = new Int32Array(cap);
  let flags = new Uint8Array(cap); // bit 0 bot, bit 1 holding a unit, bit 2 journey over (waiting for its hold's expiry)
  let outcome = new Uint8Array(cap);
  let free = new Int32Array(cap);
  let freeTop = 0;
  let used = 0;
  const BOT = 1;
  const HOLDING = 2;
  const ENDED = 4;

  const grow = () => {
    const n = cap * 2;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array) => {
      const b = new Uint8Array(n);
      b.set(a);
      return b;
    };
    due = f64(due);
    holdUntil = f64(holdUntil);
    attempt = i32(attempt);
    step = u8(step);
    sku = i32(sku);
    flags = u8(flags);
    outcome = u8(outcome);
    free = i32(free);
    cap = n;
  };
  const alloc = (): number => {
    if (freeTop > 0) return free[--freeTop];
    if (used === cap) grow();
    return used++;
  };
  const release = (s: number) => {
    free[freeTop++] = s;
  };

  // The waiting line: slots with the time each joined it.
  const queue = new Fifo();
  let maxQueue = 0;

  const inService = new MinHeap(Math.min(servers, 1 << 20));
  const delayed = new MinHeap(); // retries after backoff, payments after think time
  const expiries = new Fifo(); // reservation TTLs, in the order the holds were made: the unit comes back unless paid first
  let busy = 0;

  const all = new StagedHistogram();
  const buyers = { arrived: 0, succeeded: 0, soldOut: 0, rejected: 0, gaveUp: 0 };
  const requests = { sent: 0, success: 0, soldOut: 0, rejected: 0, timedOut: 0, shed: 0, retries: 0 };
  let unitsSold = 0;
  let firstSendMs = -1;
  let lastAckMs = -1;
  let accepting = true;
  let events = 0;
  let now = 0;
  let stoppedBy: SimulationResult['stoppedBy'] = 'done';
  let nextArrival = arrivals.next();

  const record = (s: number, at: number) => {
    const us = Math.round((at - due[s]) * 1000);
    all.record(us > 0 ? us : 0);
  };

  const unitBack = (k: number) => {
    stock[k] += qty;
    holds--;
    if (soldOutMark[k] === 1) {
      soldOutMark[k] = 0;
      marked--;
    }
  };

  const endJourney = (s: number) => {
    if (flags[s] & HOLDING) flags[s] |= ENDED; // freed when its hold expires
    else release(s);
  };

  const start = (s: number, at: number) => {
    const st = step[s];
    const k = sku[s];
    let result: number;
    if (st === PAY) {
      if (!(flags[s] & HOLDING) || at > holdUntil[s]) result = REJECTED; // expired: the sweep has the unit back
      else if (journey.declineRate > 0 && rng.next() < journey.declineRate) {
        result = REJECTED;
        flags[s] &= ~HOLDING;
        unitBack(k);
      } else {
        result = SUCCESS;
        flags[s] &= ~HOLDING;
        holds--;
      }
    } else if (stock[k] >= qty) {
      stock[k] -= qty;
      result = SUCCESS;
      if (st === RESERVE) holds++;
    } else result = SOLD_OUT;
    outcome[s] = result;
    const sampler = result === SUCCESS ? successTime[st]! : failTime[st]!; // validateSale checked every step of the journey has its service times
    busy++;
    inService.push(at + sampler.draw(rng.next()), s);
  };

  /** An error answer (timeout, shed): retry after backoff, or give up. */
  const failed = (s: number, at: number) => {
    const tries = ++attempt[s];
    const max = flags[s] & BOT ? journey.bots.retries : journey.retries.max;
    if (tries > max) {
      buyers.gaveUp++;
      endJourney(s);
      return;
    }
    requests.retries++;
    const ceiling = Math.min(journey.retries.maxMs, journey.retries.baseMs * 2 ** (tries - 1));
    due[s] = at + rng.next() * ceiling;
    delayed.push(due[s], s);
  };

  const submit = (s: number, at: number) => {
    requests.sent++;
    if (firstSendMs < 0) firstSendMs = at;
    // FIFO: a free server goes to whoever waited longest (a payment right after its reservation too).
    if (busy < servers && queue.size === 0) start(s, at);
    else if (queue.size >= queueLimit) {
      requests.shed++;
      record(s, at);
      failed(s, at);
    } else {
      queue.push(at, s);
      if (queue.size > maxQueue) maxQueue = queue.size;
    }
  };

  const complete = (s: number, at: number) => {
    busy--;
    record(s, at);
    const st = step[s];
    const k = sku[s];
    const result = outcome[s];
    if (result === SUCCESS) {
      requests.success++;
      if (st === RESERVE) {
        flags[s] |= HOLDING;
        holdUntil[s] = at + journey.reservationTtlMs;
        expiries.push(holdUntil[s], s);
        step[s] = PAY;
        attempt[s] = 0;
        const think = flags[s] & BOT ? 0 : journey.thinkTime.minMs + rng.next() * thinkSpan;
        due[s] = at + think;
        if (think <= 0) submit(s, at);
        else delayed.push(due[s], s);
      } else {
        unitsSold += qty;
        lastAckMs = at;
        buyers.succeeded++;
        endJourney(s);
      }
    } else if (result === SOLD_OUT) {
      requests.soldOut++;
      buyers.soldOut++;
      if (soldOutMark[k] === 0) {
        soldOutMark[k] = 1;
        marked++;
      }
      if (m.stopOnSellOut && marked === skus && holds === 0) accepting = false;
      endJourney(s);
    } else {
      requests.rejected++;
      buyers.rejected++;
      endJourney(s);
    }
  };

  for (;;) {
    const tArrival = accepting ? nextArrival : Infinity;
    const tDone = inService.peekTime();
    const tDelayed = delayed.peekTime();
    const tTimeout = queue.peekTime() + timeout;
    const tExpiry = expiries.peekTime();
    let next = tDone;
    if (tExpiry < next) next = tExpiry;
    if (tTimeout < next) next = tTimeout;
    if (tDelayed < next) next = tDelayed;
    if (tArrival < next) next = tArrival;
    if (next === Infinity) break;
    if (next > maxSimMs) {
      stoppedBy = 'max-sim-time';
      break;
    }
    now = next;
    events++;
    if (tDone === next) {
      const s = inService.pop();
      complete(s, now);
      // The server is free: the longest-waiting request that has not timed out goes next.
      while (queue.size > 0 && busy < servers) start(queue.shift(), now);
    } else if (tExpiry === next) {
      const s = expiries.shift();
      // Stale entries (the hold was paid, declined, or the slot reused) no longer match.
      if (flags[s] & HOLDING && holdUntil[s] === now) {
        flags[s] &= ~HOLDING;
        unitBack(sku[s]);
        if (flags[s] & ENDED) release(s);
      }
    } else if (tTimeout === next) {
      const s = queue.shift();
      requests.timedOut++;
      record(s, now);
      failed(s, now);
    } else if (tDelayed === next) {
      submit(delayed.pop(), now);
    } else {
      if (buyers.arrived >= maxBuyers) {
        stoppedBy = 'max-buyers';
        accepting = false;
        continue;
      }
      const s = alloc();
      buyers.arrived++;
      due[s] = now;
      attempt[s] = 0;
      step[s] = firstStep;
      flags[s] = journey.bots.share > 0 && rng.next() < journey.bots.share ? BOT : 0;
      let k = 0;
      if (skus > 1) {
        const x = rng.next() * weightSum;
        while (k < skus - 1 && x >= cumulative[k]) k++;
      }
      sku[s] = k;
      nextArrival = arrivals.next();
      submit(s, now);
    }
  }

  const h = all.histogram;
  return {
    servers,
    buyers,
    requests,
    stock: totalStock,
    unitsSold,
    sellOutMs: unitsSold >= totalStock && lastAckMs >= 0 && firstSendMs >= 0 ? lastAckMs - firstSendMs : null,
    firstSendMs: firstSendMs < 0 ? null : firstSendMs,
    lastAckMs: lastAckMs < 0 ? null : lastAckMs,
    endMs: now,
    stoppedBy,
    latency: percentilesMs(h),
    latencyHistogram: encodeHistogram(h),
    maxQueue,
    events,
    wallMs: performance.now() - wallStart,
  };
}
