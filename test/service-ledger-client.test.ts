// The HTTP thread's ledger port: when the ledger thread is gone, nothing may hang waiting for it.
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { LedgerClient } from '../src/service/ledger-client.ts';

function outcome(client: LedgerClient, id: string): Promise<string | null> {
  return new Promise((resolve) => client.append(1, id, 'sku', 'user', 1, Date.now(), null, 0, resolve));
}

describe('LedgerClient', () => {
  it('fails orders at once, never silently, once the ledger end of the port has closed', async () => {
    const { port1: ledgerEnd, port2 } = new MessageChannel();
    const client = new LedgerClient(port2);
    const waiting = outcome(client, 'o1'); // buffered for the next post when the port closes
    ledgerEnd.close();
    expect(await waiting).toMatch(/ledger thread is gone/);
    expect(await outcome(client, 'o2')).toMatch(/ledger thread is gone/); // after the close
    expect(client.pending).toBe(0);
    await client.flush(); // resolves: nothing is left waiting
    expect((await client.page(1, 0, 10)).e).toMatch(/ledger thread is gone/);
  });
});
