// The TCP gate a stop-postgres fault cuts (src/faults/tcp-gate.ts), against a loopback echo server:
// bytes pass both ways while open; a cut resets the connections through it and refuses new ones; open
// again listens on the same port, so the processes' ledger URL stays right.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { TcpGate } from '../src/faults/tcp-gate.ts';

const echo: Server = createServer((s) => s.pipe(s));
await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
const echoPort = (echo.address() as { port: number }).port; // a TCP server's address is an object
afterAll(() => new Promise((resolve) => echo.close(resolve)));

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function roundTrip(s: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    s.once('data', (d) => resolve(d.toString()));
    s.write(text);
  });
}

describe('TcpGate', () => {
  it('forwards while open; a cut closes the connections and refuses new ones; it opens again on the same port', async () => {
    const gate = new TcpGate('127.0.0.1', echoPort);
    await gate.open();
    const port = gate.port;
    expect(port).toBeGreaterThan(0);
    const a = await open(port);
    expect(await roundTrip(a, 'ping')).toBe('ping');
    const closed = new Promise((resolve) => a.once('close', resolve));
    await gate.cut();
    expect(gate.isOpen).toBe(false);
    await closed;
    await expect(open(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await gate.open();
    expect(gate.port).toBe(port);
    const b = await open(port);
    expect(await roundTrip(b, 'again')).toBe('again');
    b.destroy();
    await gate.cut();
  });
});
