// A serve process's own health, for the process that started it (`run --service-processes`): behind one
// shared port a GET /healthz reaches whichever process the kernel picks, so the run asks each process
// over the IPC channel it opened when it spawned it — no port, nothing another user can reach (as
// fault-messages.ts). Messages: {flashsale:'health', id} → {flashsale:'health-done', id, health}.
// The answer carries what the process served so far, read from the counters it keeps for /metrics (its
// threads' shared memory): no extra work on the request path.

/** Answers of one route since the process started: all, 2xx, 503. */
export interface RouteServed {
  answered: number;
  ok: number;
  unavailable: number;
}

/** What one process served since it started (its /metrics counters, summed over its threads). */
export interface ProcessServed {
  checkout: RouteServed;
  reserve: RouteServed;
  pay: RouteServed;
  /** 503 answers on every route (shed, a store unavailable, shutting down). */
  unavailable: number;
  /** Store calls that failed (no answer, or an error answer), per store. */
  storeErrors: { redis: number; postgres: number };
}

export interface ProcessHealth {
  /** HTTP threads the process runs, and how many of them are serving now (a crashed one is restarted; one that crashed too often is left down). */
  threads: number;
  threadsUp: number;
  /** The peers' heartbeat in Redis (peer-watch.ts): renewing, failing (Redis unreachable), or off. */
  heartbeat: 'ok' | 'failing' | 'off';
  /** Absent from a serve that does not count (an older version). */
  served?: ProcessServed;
}

export function acceptHealthMessages(report: () => ProcessHealth, proc: NodeJS.Process = process): () => void {
  if (!proc.send || !proc.channel) return () => {};
  const onMessage = (m: unknown) => {
    const msg = m as { flashsale?: unknown; id?: unknown }; // fields read as unknown and checked below
    if (msg?.flashsale !== 'health' || typeof msg.id !== 'number') return;
    proc.send?.({ flashsale: 'health-done', id: msg.id, health: report() });
  };
  proc.on('message', onMessage);
  // The channel must not keep the service alive by itself, nor stop it from ending on a signal.
  proc.channel.unref();
  return () => proc.off('message', onMessage);
}

const count = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function routeServedOf(v: unknown): RouteServed | null {
  const r = v as Partial<RouteServed> | null | undefined; // every field checked below
  if (typeof r !== 'object' || r === null || !count(r.answered) || !count(r.ok) || !count(r.unavailable)) return null;
  return { answered: r.answered, ok: r.ok, unavailable: r.unavailable };
}

/** A served report as received over IPC, checked field by field (null: not one). */
export function servedOf(v: unknown): ProcessServed | null {
  const s = v as { [K in keyof ProcessServed]?: unknown } | null | undefined; // every field checked below
  if (typeof s !== 'object' || s === null) return null;
  const checkout = routeServedOf(s.checkout);
  const reserve = routeServedOf(s.reserve);
  const pay = routeServedOf(s.pay);
  const errors = s.storeErrors as { redis?: unknown; postgres?: unknown } | null | undefined; // checked below
  if (!checkout || !reserve || !pay || !count(s.unavailable) || typeof errors !== 'object' || errors === null || !count(errors.redis) || !count(errors.postgres)) return null;
  return { checkout, reserve, pay, unavailable: s.unavailable, storeErrors: { redis: errors.redis, postgres: errors.postgres } };
}

/** A health answer as received over IPC, checked field by field (null: not one; a bad `served` is dropped). */
export function healthOf(m: unknown): ProcessHealth | null {
  const h = (m as { health?: unknown } | null)?.health as Partial<ProcessHealth> | undefined; // every field checked below
  if (typeof h !== 'object' || h === null) return null;
  if (typeof h.threads !== 'number' || typeof h.threadsUp !== 'number' || !['ok', 'failing', 'off'].includes(String(h.heartbeat))) return null;
  const served = h.served === undefined ? null : servedOf(h.served);
  return { threads: h.threads, threadsUp: h.threadsUp, heartbeat: h.heartbeat!, ...(served ? { served } : {}) }; // heartbeat checked just above
}
