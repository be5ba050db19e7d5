// A loopback TCP forwarder the run puts between the service processes and PostgreSQL, so a
// `stop: "postgres"` fault can cut the ledger off for these processes alone: every connection through
// the gate is reset and new ones are refused until it opens again. The real PostgreSQL server, which
// other programs on the machine share, is never stopped.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { FaultError } from '../errors.ts';

export class TcpGate {
  readonly #host: string;
  readonly #target: number;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  /** The gate's own port (chosen by the kernel at the first open, kept after). */
  port = 0;

  constructor(targetHost: string, targetPort: number) {
    this.#host = targetHost;
    this.#target = targetPort;
  }

  get isOpen(): boolean {
    return this.#server !== null;
  }

  /** Listens (again, on the same port) and forwards every new connection to the target. */
  async open(): Promise<void> {
    if (this.#server) return;
    const server = createServer((client) => {
      const upstream = connect(this.#target, this.#host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          this.#sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new FaultError(`the PostgreSQL gate could not listen on 127.0.0.1:${this.port}: ${e.message}`)));
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port; // a TCP server's address is an object
    this.#server = server;
  }

  /** Resets every connection through the gate and refuses new ones until open(). */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
