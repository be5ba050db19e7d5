// A serve process's own health, for the process that started it (`run --service-processes`): behind one
// shared port a GET /healthz reaches whichever process the kernel picks, so the run asks each process
// over the IPC channel it opened when it spawned it — no port, nothing another user can reach (as
// fault-messages.ts). Messages: {flashsale:'health', id} → {flashsale:'health-done', id, health}.

export interface ProcessHealth {
  /** HTTP threads the process runs, and how many of them are serving now (a crashed one is restarted; one that crashed too often is left down). */
  threads: number;
  threadsUp: number;
  /** The peers' heartbeat in Redis (peer-watch.ts): renewing, failing (Redis unreachable), or off. */
  heartbeat: 'ok' | 'failing' | 'off';
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

/** A health answer as received over IPC, checked field by field (null: not one). */
export function healthOf(m: unknown): ProcessHealth | null {
  const h = (m as { health?: unknown } | null)?.health as Partial<ProcessHealth> | undefined; // every field checked below
  if (typeof h !== 'object' || h === null) return null;
  if (typeof h.threads !== 'number' || typeof h.threadsUp !== 'number' || !['ok', 'failing', 'off'].includes(String(h.heartbeat))) return null;
  return { threads: h.threads, threadsUp: h.threadsUp, heartbeat: h.heartbeat! }; // checked just above
}
