// Lets the process that started `flashsale serve` crash one of its HTTP threads, for the `kill: "thread"`
// fault (service-process.ts sends the message). Only over the IPC channel a parent opens when it spawns
// the service: no port, no signal, nothing another user of the machine can reach (docs/service.md says
// why a signal handler was rejected). Messages: {flashsale:'fault', id, crash:'http', index} →
// {flashsale:'fault-done', id, error?}. Phase 2: `serve` calls acceptFaultMessages once it has started.
import { FAULTS, type RunningService } from './index.ts';

export function acceptFaultMessages(service: RunningService, proc: NodeJS.Process = process): () => void {
  if (!proc.send || !proc.channel) return () => {};
  const onMessage = (m: unknown) => {
    const msg = m as { flashsale?: unknown; id?: unknown; crash?: unknown; index?: unknown }; // fields read as unknown and checked below
    if (msg?.flashsale !== 'fault' || msg.crash !== 'http' || typeof msg.id !== 'number') return;
    const index = msg.index;
    const reply = (error?: string) => proc.send?.({ flashsale: 'fault-done', id: msg.id, ...(error === undefined ? {} : { error }) });
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= service.threads) {
      reply(`no HTTP thread ${String(index)} (the service has ${service.threads})`);
      return;
    }
    service[FAULTS].crash('http', index).then(
      () => reply(),
      (e: Error) => reply(e.message),
    );
  };
  proc.on('message', onMessage);
  // The channel must not keep the service alive by itself, nor stop it from ending on a signal.
  proc.channel.unref();
  return () => proc.off('message', onMessage);
}
