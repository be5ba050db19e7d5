// The benchmarks' minimal target: a raw node:net server, in its own process, answering every request
// with a canned HTTP/1.1 201 (or 409 "sold out" to `POST /soldout…`), so the target is not what is
// measured. bench:load, bench:transport, bench:load-profile and bench:load-ab all drive this one.
// startCannedTarget() forks this file with --serve; the child says its port over IPC and ends when its
// parent goes.
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Socket } from 'node:net';

const RESPONSE = Buffer.from('HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"orderId":"o1"}');
// For bench:load's heap check: every buyer told "sold out", so no acknowledged order is kept (the only
// thing the engine keeps per request, and it is bounded by the stock in a real sale).
const SOLD_OUT = Buffer.from('HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"error":"sold_out"}');

/** Answers each complete request (headers + Content-Length body) on a connection with RESPONSE. */
function serveCanned(socket: Socket): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    let answers = 0;
    let response = RESPONSE;
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = buffered.subarray(0, end).toString('latin1');
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const total = end + 4 + (m ? Number(m[1]) : 0);
      if (head.startsWith('POST /soldout')) response = SOLD_OUT;
      if (buffered.length < total) break;
      buffered = buffered.subarray(total);
      answers++;
    }
    if (answers === 1) socket.write(response);
    else if (answers > 1) socket.write(Buffer.concat(new Array(answers).fill(response)));
  });
  socket.on('error', () => socket.destroy());
}

/** Forks the target and waits for its port: its URL and the child (kill it when done). */
export async function startCannedTarget(): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(new URL(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`bench target exited early (code ${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

if (process.argv[2] === '--serve' && process.send) {
  const server = createServer(serveCanned);
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  process.on('disconnect', () => process.exit(0));
}
