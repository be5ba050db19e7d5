// A free TCP port on a loopback address, found by listening on port 0 and closing. Another process may
// take it before the caller binds it; every user here starts a server that fails loudly if it does.
import { createServer } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number }; // a listening TCP server's address is an object
      probe.close(() => resolve(port));
    });
  });
}
