// The ledger thread: owns the SQLite connection, group-commits orders posted by HTTP threads over
// their MessagePorts and answers control calls from the main thread.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { LedgerStore, type SyncMode } from '../ledger/store.ts';
import { LedgerDamagedError, messageOf } from '../errors.ts';
import { GroupCommitter } from '../ledger/committer.ts';
import type { ControlCall, ControlReply, LedgerEvent } from '../ledger/protocol.ts';
import { Health } from './health.ts';

interface LedgerWorkerData {
  path: string;
  sync: SyncMode;
  metrics: SharedArrayBuffer;
  health: SharedArrayBuffer | null;
  ports: MessagePort[];
  acceptLostOrders: boolean;
}

const data = workerData as LedgerWorkerData; // the ledger host starts this thread with LedgerWorkerData
const parent = parentPort!; // this file only runs as a worker thread
let store: LedgerStore;
try {
  store = new LedgerStore(data.path, data.sync, { acceptLostOrders: data.acceptLostOrders });
} catch (e) {
  parent.postMessage({ id: 0, ok: false, error: messageOf(e), damaged: e instanceof LedgerDamagedError } satisfies ControlReply);
  process.exit(1);
}
const committer = new GroupCommitter(store, data.metrics, data.health ? new Health(data.health) : null, (e: LedgerEvent) => parent.postMessage(e));
for (const port of data.ports) committer.attach(port);
parent.postMessage({ id: 0, ok: true, value: store.warnings } satisfies ControlReply);

parent.on('message', (call: ControlCall) => {
  let reply: ControlReply;
  try {
    switch (call.op) {
      case 'latest':
        reply = { id: call.id, ok: true, value: store.latestSale() };
        break;
      case 'new-sale':
        reply = { id: call.id, ok: true, value: store.newSale(call.definition) };
        break;
      case 'recover':
        reply = { id: call.id, ok: true, value: store.recover(call.saleId) };
        break;
      case 'drain-port':
        committer.drain(call.index);
        reply = { id: call.id, ok: true };
        break;
      case 'attach-port':
        committer.attach(call.port, call.index);
        reply = { id: call.id, ok: true };
        break;
      case 'close':
        committer.close();
        parent.postMessage({ id: call.id, ok: true } satisfies ControlReply);
        parent.close();
        return;
    }
  } catch (e) {
    reply = { id: call.id, ok: false, error: messageOf(e) };
  }
  parent.postMessage(reply);
});
